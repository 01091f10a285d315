/** Jest runs the TypeScript sources through ts-jest; type errors fail the run. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: false, diagnostics: true }] },
};
