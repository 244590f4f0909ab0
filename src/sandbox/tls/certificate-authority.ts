/**
 * The sandbox CA. Created on first start (ca.pem + ca-key.pem in the state dir, key mode
 * 0600) and reused afterwards, so a user trusts it once. It issues:
 * - the agent-ingress leaf (the SDK checks IP SANs when server_addr is an IP, and rejects
 *   CA:TRUE leaves and CN-only names — docs/agent-protocol.md §1);
 * - per-host leaves for the public HTTPS ingress, because a wildcard covers one label only
 *   and endpoint hosts such as app.dev.<domain> are deeper.
 */
// @peculiar/x509 (via tsyringe) needs the Reflect metadata API; load it before x509.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** Leaf followed by the CA, ready for `tls.createSecureContext({ cert })`. */
  chainPem: string;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
// node's webcrypto implements the WebCrypto `Crypto` interface @peculiar/x509 expects.
const crypto = webcrypto;

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function fromPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function isIp(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}

export class CertificateAuthority {
  private readonly leafCache = new Map<string, Promise<IssuedCertificate>>();

  private constructor(
    readonly caPath: string,
    readonly caPem: string,
    private readonly caCert: x509.X509Certificate,
    private readonly caKey: CryptoKey,
  ) {}

  /** Load the CA from `stateDir`, creating it on first use. */
  static async loadOrCreate(stateDir: string): Promise<CertificateAuthority> {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const caPath = join(stateDir, 'ca.pem');
    const keyPath = join(stateDir, 'ca-key.pem');
    let certPem: string | undefined;
    let keyPem: string | undefined;
    try {
      [certPem, keyPem] = await Promise.all([readFile(caPath, 'utf8'), readFile(keyPath, 'utf8')]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (certPem && keyPem) {
      const key = await crypto.subtle.importKey('pkcs8', fromPem(keyPem), KEY_ALG, false, ['sign']);
      return new CertificateAuthority(caPath, certPem, new x509.X509Certificate(certPem), key);
    }
    const keys = (await crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        name: 'CN=devtunnel sandbox CA, O=devtunnel sandbox',
        keys,
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + 3650 * DAY),
        signingAlgorithm: SIGN_ALG,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    const pem = cert.toString('pem') + '\n';
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
    await writeFile(keyPath, toPem(pkcs8, 'PRIVATE KEY'), { mode: 0o600 });
    await chmod(keyPath, 0o600);
    await writeFile(caPath, pem, { mode: 0o644 });
    return new CertificateAuthority(caPath, pem, cert, keys.privateKey);
  }

  /** Issue a server leaf (CA:FALSE, EKU serverAuth) for the given DNS names and IPs. */
  async issueLeaf(names: string[]): Promise<IssuedCertificate> {
    const keys = (await crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const now = Date.now();
    const first = names.find((n) => !isIp(n)) ?? names[0] ?? 'localhost';
    const cert = await x509.X509CertificateGenerator.create(
      {
        subject: `CN=${first.replace(/[,=+<>#;"\\]/g, '')}`,
        issuer: this.caCert.subject,
        publicKey: keys.publicKey,
        signingKey: this.caKey,
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + 397 * DAY),
        signingAlgorithm: SIGN_ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
          new x509.SubjectAlternativeNameExtension(
            names.map((n) => ({ type: isIp(n) ? ('ip' as const) : ('dns' as const), value: n })),
            false,
          ),
          await x509.AuthorityKeyIdentifierExtension.create(this.caCert, false, crypto),
        ],
      },
      crypto,
    );
    const certPem = cert.toString('pem') + '\n';
    const keyPem = toPem(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    return { certPem, keyPem, chainPem: certPem + this.caPem };
  }

  /** Leaf for one public host, issued once and cached. */
  leafForHost(host: string): Promise<IssuedCertificate> {
    const key = host.toLowerCase();
    let leaf = this.leafCache.get(key);
    if (!leaf) {
      leaf = this.issueLeaf([key]);
      leaf.catch(() => this.leafCache.delete(key));
      this.leafCache.set(key, leaf);
    }
    return leaf;
  }
}
