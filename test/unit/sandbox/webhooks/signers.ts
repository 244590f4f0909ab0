// Test-side signers: what each provider sends, written from webhook-providers.md independently of
// src/sandbox/webhooks (and cross-checked against the official vectors and the providers' libraries).
import { createHash, createHmac, generateKeyPairSync, sign as ecSign } from 'node:crypto';

export interface Signed {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Whether a stale timestamp must be refused (false for untimestamped schemes). */
  timestamped: boolean;
  /** Header removed for the "missing header" case; undefined when the signature sits in the body. */
  signatureHeader?: string;
}

export interface SignOptions {
  secret: string;
  body: Buffer;
  now: Date;
  url?: string;
}

const mac = (alg: string, key: string | Buffer, ...parts: Array<string | Buffer>) => {
  const h = createHmac(alg, key);
  for (const p of parts) h.update(p);
  return h.digest();
};
const unix = (d: Date) => String(Math.floor(d.getTime() / 1000));
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const DEFAULT_URL = 'https://hooks.dev.devtunnel.localhost:8443/webhook?x=1';

type Body = { alg: string; header: string; enc: 'hex' | 'base64'; prefix?: string; keyDecode?: boolean };
const BODY: Record<string, Body> = {
  aftership: { alg: 'sha256', header: 'aftership-hmac-sha256', enc: 'base64' },
  alchemy: { alg: 'sha256', header: 'X-Alchemy-Signature', enc: 'hex' },
  bitbucket: { alg: 'sha256', header: 'X-Hub-Signature', enc: 'hex', prefix: 'sha256=' },
  bolt: { alg: 'sha256', header: 'X-Bolt-Hmac-Sha256', enc: 'base64' },
  chargify: { alg: 'sha256', header: 'X-Chargify-Webhook-Signature-Hmac-Sha-256', enc: 'hex' },
  circleci: { alg: 'sha256', header: 'circleci-signature', enc: 'hex', prefix: 'v1=' },
  coinbase: { alg: 'sha256', header: 'X-CC-Webhook-Signature', enc: 'hex' },
  docusign: { alg: 'sha256', header: 'X-DocuSign-Signature-1', enc: 'base64' },
  dropbox: { alg: 'sha256', header: 'X-Dropbox-Signature', enc: 'hex' },
  facebook_graph_api: { alg: 'sha256', header: 'X-Hub-Signature-256', enc: 'hex', prefix: 'sha256=' },
  facebook_messenger: { alg: 'sha256', header: 'X-Hub-Signature-256', enc: 'hex', prefix: 'sha256=' },
  github: { alg: 'sha256', header: 'X-Hub-Signature-256', enc: 'hex', prefix: 'sha256=' },
  heroku: { alg: 'sha256', header: 'Heroku-Webhook-Hmac-SHA256', enc: 'base64' },
  instagram: { alg: 'sha256', header: 'X-Hub-Signature-256', enc: 'hex', prefix: 'sha256=' },
  intercom: { alg: 'sha1', header: 'X-Hub-Signature', enc: 'hex', prefix: 'sha1=' },
  jira: { alg: 'sha256', header: 'X-Hub-Signature', enc: 'hex', prefix: 'sha256=' },
  launch_darkly: { alg: 'sha256', header: 'X-LD-Signature', enc: 'hex' },
  linear: { alg: 'sha256', header: 'Linear-Signature', enc: 'hex' },
  microsoft_teams: { alg: 'sha256', header: 'Authorization', enc: 'base64', prefix: 'HMAC ', keyDecode: true },
  modern_treasury: { alg: 'sha256', header: 'X-Signature', enc: 'hex' },
  pagerduty: { alg: 'sha256', header: 'X-PagerDuty-Signature', enc: 'hex', prefix: 'v1=' },
  pusher: { alg: 'sha256', header: 'X-Pusher-Signature', enc: 'hex' },
  sentry: { alg: 'sha256', header: 'Sentry-Hook-Signature', enc: 'hex' },
  shopify: { alg: 'sha256', header: 'X-Shopify-Hmac-Sha256', enc: 'base64' },
  sonatype: { alg: 'sha1', header: 'X-Nexus-Webhook-Signature', enc: 'hex' },
  terraform: { alg: 'sha512', header: 'X-TFE-Notification-Signature', enc: 'hex' },
  twitter: { alg: 'sha256', header: 'x-twitter-webhooks-signature', enc: 'base64', prefix: 'sha256=' },
  typeform: { alg: 'sha256', header: 'Typeform-Signature', enc: 'base64', prefix: 'sha256=' },
  webex: { alg: 'sha1', header: 'X-Spark-Signature', enc: 'hex' },
  whatsapp: { alg: 'sha256', header: 'X-Hub-Signature-256', enc: 'hex', prefix: 'sha256=' },
  worldline: { alg: 'sha256', header: 'X-GCS-Signature', enc: 'base64' },
  xero: { alg: 'sha256', header: 'x-xero-signature', enc: 'base64' },
};

/** Secrets in the shape each provider issues (some are decoded keys). */
export function secretFor(provider: string): string {
  switch (provider) {
    case 'svix':
    case 'clerk':
    case 'brex':
      return 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    case 'microsoft_teams':
      return 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';
    case 'sendgrid':
      return sendgridKeys().publicKey;
    case 'vmware':
      return 'hookuser::s3cret-pass';
    default:
      return `test_secret_for_${provider}`;
  }
}

/** A wrong secret of the same shape. */
export function wrongSecretFor(provider: string): string {
  switch (provider) {
    case 'svix':
    case 'clerk':
    case 'brex':
      return 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    case 'microsoft_teams':
      return Buffer.alloc(32, 9).toString('base64');
    case 'sendgrid':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    case 'vmware':
      return 'hookuser::other-pass';
    default:
      return `wrong_secret_for_${provider}`;
  }
}

let keys: { publicKey: string; privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'] } | undefined;
export function sendgridKeys() {
  if (!keys) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keys = { publicKey: pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), privateKey: pair.privateKey };
  }
  return keys;
}

/** A body each provider would plausibly send (Linear's carries its signed timestamp). */
export function bodyFor(provider: string, now: Date): Buffer {
  if (provider === 'linear') return Buffer.from(JSON.stringify({ action: 'create', type: 'Issue', webhookTimestamp: now.getTime() }));
  if (provider === 'mailgun') return Buffer.from(JSON.stringify({ 'event-data': { event: 'delivered', id: 'abc' } }));
  if (provider === 'twilio') return Buffer.from('Body=hello+there&From=%2B15550001111&To=%2B15550002222');
  return Buffer.from(JSON.stringify({ hello: 'world', provider, n: 1 }));
}

/** Signs `body` for `provider` exactly as the provider would send it. */
export function signFor(provider: string, opts: SignOptions): Signed {
  const { secret, body, now } = opts;
  const url = opts.url ?? DEFAULT_URL;
  const base = { method: 'POST', url, body, headers: { 'content-type': 'application/json' } as Record<string, string> };
  const spec = BODY[provider];
  if (spec) {
    const key = spec.keyDecode ? Buffer.from(secret, 'base64') : secret;
    const sig = mac(spec.alg, key, body).toString(spec.enc);
    return { ...base, headers: { ...base.headers, [spec.header]: `${spec.prefix ?? ''}${sig}` }, timestamped: provider === 'linear', signatureHeader: spec.header };
  }
  const t = unix(now);
  const hex = (...parts: Array<string | Buffer>) => mac('sha256', secret, ...parts).toString('hex');
  const b64 = (...parts: Array<string | Buffer>) => mac('sha256', secret, ...parts).toString('base64');
  const withHeaders = (headers: Record<string, string>, signatureHeader: string, timestamped = true): Signed => ({
    ...base,
    headers: { ...base.headers, ...headers },
    timestamped,
    signatureHeader,
  });
  switch (provider) {
    case 'stripe':
      return withHeaders({ 'Stripe-Signature': `t=${t},v1=${hex(t, '.', body)}` }, 'Stripe-Signature');
    case 'calendly':
      return withHeaders({ 'Calendly-Webhook-Signature': `t=${t},v1=${hex(t, '.', body)}` }, 'Calendly-Webhook-Signature');
    case 'mux':
      return withHeaders({ 'Mux-Signature': `t=${t},v1=${hex(t, '.', body)}` }, 'Mux-Signature');
    case 'tiktok':
      return withHeaders({ 'TikTok-Signature': `t=${t},s=${hex(t, '.', body)}` }, 'TikTok-Signature');
    case 'buildkite':
      return withHeaders({ 'X-Buildkite-Signature': `timestamp=${t},signature=${hex(t, '.', body)}` }, 'X-Buildkite-Signature');
    case 'slack':
      return withHeaders({ 'X-Slack-Signature': `v0=${hex('v0:', t, ':', body)}`, 'X-Slack-Request-Timestamp': t }, 'X-Slack-Signature');
    case 'zoom':
      return withHeaders({ 'x-zm-signature': `v0=${hex('v0:', t, ':', body)}`, 'x-zm-request-timestamp': t }, 'x-zm-signature');
    case 'frameio':
      return withHeaders({ 'X-Frameio-Signature': `v0=${hex('v0:', t, ':', body)}`, 'X-Frameio-Request-Timestamp': t }, 'X-Frameio-Signature');
    case 'pinwheel':
      return withHeaders({ 'X-Pinwheel-Signature': `v2=${hex('v2:', t, ':', body)}`, 'X-Timestamp': t }, 'X-Pinwheel-Signature');
    case 'airship':
      return withHeaders({ 'X-UA-Signature': hex(t, ':', body), 'X-UA-Timestamp': t }, 'X-UA-Signature');
    case 'zendesk': {
      const ts = iso(now);
      return withHeaders({ 'X-Zendesk-Webhook-Signature': b64(ts, body), 'X-Zendesk-Webhook-Signature-Timestamp': ts }, 'X-Zendesk-Webhook-Signature');
    }
    case 'box': {
      const ts = iso(now);
      return withHeaders(
        { 'BOX-SIGNATURE-PRIMARY': b64(body, ts), 'BOX-DELIVERY-TIMESTAMP': ts, 'BOX-SIGNATURE-VERSION': '1', 'BOX-SIGNATURE-ALGORITHM': 'HmacSHA256' },
        'BOX-SIGNATURE-PRIMARY',
      );
    }
    case 'orb': {
      const ts = now.toISOString().replace(/Z$/, '');
      return withHeaders({ 'X-Orb-Signature': `v1=${hex('v1:', ts, ':', body)}`, 'X-Orb-Timestamp': ts }, 'X-Orb-Signature');
    }
    case 'svix':
    case 'clerk':
    case 'brex': {
      const id = `msg_${createHash('sha256').update(body).update(t).digest('hex').slice(0, 20)}`;
      const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
      const sig = mac('sha256', key, id, '.', t, '.', body).toString('base64');
      const p = provider === 'brex' ? 'webhook' : 'svix';
      return withHeaders({ [`${p}-id`]: id, [`${p}-timestamp`]: t, [`${p}-signature`]: `v1,${sig}` }, `${p}-signature`);
    }
    case 'twilio': {
      const params = new URLSearchParams(body.toString());
      let text = url;
      for (const name of [...new Set(params.keys())].sort()) for (const v of params.getAll(name).sort()) text += name + v;
      return {
        ...base,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': mac('sha1', secret, text).toString('base64') },
        timestamped: false,
        signatureHeader: 'X-Twilio-Signature',
      };
    }
    case 'square':
      return withHeaders({ 'x-square-hmacsha256-signature': b64(url, body) }, 'x-square-hmacsha256-signature', false);
    case 'hubspot': {
      const ms = String(now.getTime());
      return withHeaders({ 'X-HubSpot-Signature-v3': b64('POST', url, body, ms), 'X-HubSpot-Request-Timestamp': ms }, 'X-HubSpot-Signature-v3');
    }
    case 'mailgun': {
      const token = createHash('sha256').update(body).update(t).digest('hex').slice(0, 50);
      const withSig = JSON.parse(body.toString()) as Record<string, unknown>;
      withSig['signature'] = { timestamp: t, token, signature: hex(t, token) };
      return { ...base, body: Buffer.from(JSON.stringify(withSig)), timestamped: true };
    }
    case 'sendgrid': {
      const sig = ecSign('sha256', Buffer.concat([Buffer.from(t), body]), sendgridKeys().privateKey).toString('base64');
      return withHeaders(
        { 'X-Twilio-Email-Event-Webhook-Signature': sig, 'X-Twilio-Email-Event-Webhook-Timestamp': t },
        'X-Twilio-Email-Event-Webhook-Signature',
      );
    }
    case 'gitlab':
      return withHeaders({ 'X-Gitlab-Token': secret, 'X-Gitlab-Event': 'Push Hook' }, 'X-Gitlab-Token', false);
    case 'vmware': {
      const [user, pass] = secret.split('::');
      return withHeaders({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` }, 'Authorization', false);
    }
  }
  throw new Error(`no test signer for ${provider}`);
}
