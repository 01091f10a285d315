/**
 * ConfigError: bad input a person must fix (config.json, the files it names,
 * the command line's config): main.ts prints its message and exits with code 2.
 * A file of its own so that modules which only throw it (the cluster key)
 * do not load ajv and compile the config schema.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
