/**
 * A browser's side of Web Push for tests (issue 15): a subscription's keys made the way a browser makes them
 * (an ECDH P-256 key pair and a 16-byte auth secret) and RFC 8291 (aes128gcm, RFC 8188) decryption of what the
 * push service received, with node:crypto only (independent of the `web-push` library the server encrypts with).
 */
import { createDecipheriv, createECDH, createHmac, randomBytes } from 'node:crypto';

export interface TestSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
  /** Decrypts an aes128gcm body sent to this subscription; throws when it was not encrypted for it. */
  decrypt(body: Buffer): string;
}

const hmac = (key: Buffer, data: Buffer): Buffer => createHmac('sha256', key).update(data).digest();

/** A subscription to `endpoint` with fresh keys, as `pushManager.subscribe()` would give. */
export function browserSubscription(endpoint: string): TestSubscription {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const uaPublic = ecdh.getPublicKey(); // uncompressed, 65 bytes
  const authSecret = randomBytes(16);
  return {
    endpoint,
    keys: { p256dh: uaPublic.toString('base64url'), auth: authSecret.toString('base64url') },
    decrypt(body: Buffer): string {
      // RFC 8188 header: salt (16) | rs (uint32) | idlen (1) | keyid (idlen: the sender's public key).
      if (body.length < 21) throw new Error('body shorter than the aes128gcm header');
      const salt = body.subarray(0, 16);
      const rs = body.readUInt32BE(16);
      const idlen = body[20] ?? 0;
      const asPublic = body.subarray(21, 21 + idlen);
      const ciphertext = body.subarray(21 + idlen);
      if (idlen !== 65) throw new Error(`keyid is ${idlen} bytes, not a P-256 public key`);
      // RFC 8291 §3.4: the input keying material from the ECDH secret and the auth secret.
      const ecdhSecret = ecdh.computeSecret(asPublic);
      const prkKey = hmac(authSecret, ecdhSecret);
      const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]);
      const ikm = hmac(prkKey, keyInfo);
      // RFC 8188 §2.2/2.3: the content encryption key and the nonce.
      const prk = hmac(salt, ikm);
      const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
      const nonceBase = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
      const out: Buffer[] = [];
      const records = Math.ceil(ciphertext.length / rs);
      for (let i = 0; i < records; i++) {
        const record = ciphertext.subarray(i * rs, Math.min((i + 1) * rs, ciphertext.length));
        const nonce = Buffer.from(nonceBase);
        // The record's sequence number XORed into the nonce's last bytes (records here are few: 32 bits do).
        nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ i) >>> 0, 8);
        const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
        decipher.setAuthTag(record.subarray(record.length - 16));
        const plain = Buffer.concat([
          decipher.update(record.subarray(0, record.length - 16)),
          decipher.final(),
        ]);
        // Padding: the data, then a delimiter (2 in the last record, 1 before), then zeros.
        let end = plain.length - 1;
        while (end >= 0 && plain[end] === 0) end--;
        const delimiter = plain[end];
        if (delimiter !== (i === records - 1 ? 2 : 1)) throw new Error('bad padding delimiter');
        out.push(plain.subarray(0, end));
      }
      return Buffer.concat(out).toString('utf8');
    },
  };
}
