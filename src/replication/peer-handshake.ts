/**
 * How two members of a cluster prove themselves when a peer connection
 * opens, with the cluster secret and fresh nonces from both sides:
 *
 *   client → server  GET /internal/peer, Upgrade: ddb-peer/1, X-Ddb-From: <its id>,
 *                    X-Ddb-To: <the server's id>, X-Ddb-Nonce: <32 random bytes>,
 *                    X-Ddb-Proof: HMAC(secret, client label, ids, client nonce)
 *   server → client  401 if that proof fails; else 101, X-Ddb-Nonce: <32 random bytes>,
 *                    X-Ddb-Proof: HMAC(secret, server label, ids, both nonces)
 *   client → server  an AUTH frame, tagged with the client-to-server key
 *
 * A replayed request passes the first proof, but the session keys depend on
 * the server's fresh nonce too: without the secret, the replayer can send no
 * frame the server accepts, not even AUTH.
 *
 * Each direction's frame key is derived from the secret, both nonces and
 * both ids, so the ids the two sides claimed are bound into every frame: a
 * member cannot later speak for another id on this connection, and no frame
 * of one connection is valid on another.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const PEER_PROTOCOL = 'ddb-peer/1';
export const PEER_PATH = '/internal/peer';
export const NONCE_BYTES = 32;
export const CLUSTER_SECRET_BYTES_MIN = 32;

export interface ClientHello {
  /** The node that opened the connection. */
  client_id: number;
  /** The node it connected to. */
  server_id: number;
  client_nonce: Buffer;
}

export interface HandshakeIds extends ClientHello {
  server_nonce: Buffer;
}

export interface SessionKeys {
  client_to_server: Buffer;
  server_to_client: Buffer;
}

function mac(secret: Buffer, label: string, ids: ClientHello & { server_nonce?: Buffer }): Buffer {
  const hmac = createHmac('sha256', secret).update(`${PEER_PROTOCOL} ${label} ${ids.client_id} ${ids.server_id} `).update(ids.client_nonce);
  if (ids.server_nonce !== undefined) hmac.update(ids.server_nonce);
  return hmac.digest();
}

function equal(proof: Buffer, expected: Buffer): boolean {
  return proof.length === expected.length && timingSafeEqual(proof, expected);
}

export function clientProof(secret: Buffer, hello: ClientHello): Buffer {
  return mac(secret, 'client proof', hello);
}

export function verifyClientProof(secret: Buffer, hello: ClientHello, proof: Buffer): boolean {
  return equal(proof, clientProof(secret, hello));
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function serverProof(secret: Buffer, ids: HandshakeIds): Buffer {
  return mac(secret, 'server proof', ids);
}

export function verifyServerProof(secret: Buffer, ids: HandshakeIds, proof: Buffer): boolean {
  return equal(proof, serverProof(secret, ids));
}

export function sessionKeys(secret: Buffer, ids: HandshakeIds): SessionKeys {
  return { client_to_server: mac(secret, 'client to server', ids), server_to_client: mac(secret, 'server to client', ids) };
}

/** A nonce from a header: base64 of exactly NONCE_BYTES bytes, or null. */
export function parseNonce(header: string | string[] | undefined): Buffer | null {
  if (typeof header !== 'string' || header.length > 64) return null;
  const nonce = Buffer.from(header, 'base64');
  return nonce.length === NONCE_BYTES ? nonce : null;
}

/** A node id from a header: a positive integer that is a member, or null. */
export function parseMemberId(header: string | string[] | undefined, member_ids: ReadonlySet<number>): number | null {
  if (typeof header !== 'string' || !/^[1-9][0-9]{0,6}$/.test(header)) return null;
  const id = Number(header);
  return member_ids.has(id) ? id : null;
}
