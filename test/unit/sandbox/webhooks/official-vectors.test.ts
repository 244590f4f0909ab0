// The providers' own published test vectors (webhook-providers.md §6a), then the regression
// fixtures computed for §6b. Each must verify with the sandbox verifier at its own moment in time.
import { describe, expect, it } from 'vitest';
import { WebhookVerifier } from '../../../../src/sandbox/webhooks/verify.js';

const at = (unixSeconds: number) => new Date(unixSeconds * 1000);
const v = () => new WebhookVerifier();
const req = (headers: Record<string, string>, body: string | Buffer, url = 'https://example.com/hook', method = 'POST') => ({
  method,
  url,
  headers,
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});
const ok = { verified: true };

describe('§6a official vectors', () => {
  it('GitHub docs: "It\'s a Secret to Everybody" / "Hello, World!"', () => {
    const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(v().verify('github', "It's a Secret to Everybody", req({ 'X-Hub-Signature-256': sig }, 'Hello, World!'), new Date())).toEqual(ok);
    expect(v().verify('github', "It's a Secret to Everybody", req({ 'X-Hub-Signature-256': sig }, 'Hello, World?'), new Date()).verified).toBe(false);
  });

  it('Slack docs: the slash-command example', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const headers = { 'X-Slack-Signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503', 'X-Slack-Request-Timestamp': '1531420618' };
    expect(v().verify('slack', '8f742231b10e8888abcd99yyyzzz85a5', req(headers, body), at(1531420618 + 10))).toEqual(ok);
    // The same genuine request six minutes later is stale.
    expect(v().verify('slack', '8f742231b10e8888abcd99yyyzzz85a5', req(headers, body), at(1531420618 + 360)).error).toMatch(/360 s old/);
  });

  it('Twilio helper-library docs: form POST to a URL with a query', () => {
    const body = 'CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212';
    const headers = { 'X-Twilio-Signature': 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', 'content-type': 'application/x-www-form-urlencoded' };
    expect(v().verify('twilio', '12345', req(headers, body, 'https://mycompany.com/myapp.php?foo=1&bar=2'), new Date())).toEqual(ok);
    // Twilio may have signed the URL with the default port spelled out.
    expect(v().verify('twilio', '12345', req(headers, body, 'https://mycompany.com:443/myapp.php?foo=1&bar=2'), new Date())).toEqual(ok);
    expect(v().verify('twilio', '12345', req(headers, body, 'https://mycompany.com/myapp.php?foo=1&bar=3'), new Date()).verified).toBe(false);
  });

  it('Twilio test suite: JSON body with bodySHA256', () => {
    const body = '{"property": "value", "boolean": true}';
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620';
    const headers = { 'X-Twilio-Signature': 'a9nBmqA0ju/hNViExpshrM61xv4=', 'content-type': 'application/json' };
    expect(v().verify('twilio', '12345', req(headers, body, url), new Date())).toEqual(ok);
    expect(v().verify('twilio', '12345', req(headers, body.replace('true', 'fals'), url), new Date()).error).toMatch(/bodySHA256/);
  });

  it('Svix / Standard Webhooks library suites', () => {
    const headers = { 'svix-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'svix-timestamp': '1614265330', 'svix-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
    expect(v().verify('svix', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', req(headers, '{"test": 2432232314}'), at(1614265330))).toEqual(ok);
    const white = { 'webhook-id': headers['svix-id'], 'webhook-timestamp': headers['svix-timestamp'], 'webhook-signature': `v1a,xyz v1,bogus ${headers['svix-signature']}` };
    expect(v().verify('clerk', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', req(white, '{"test": 2432232314}'), at(1614265330))).toEqual(ok);
    expect(v().verify('svix', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', req(headers, '{"test": 2432232314}'), at(1614265330 + 301)).error).toMatch(/tolerance/);
    expect(v().verify('svix', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', req(headers, '{"test": 2432232314}'), at(1614265330 - 301)).error).toMatch(/future/);
  });

  it('SendGrid @sendgrid/eventwebhook suite: ECDSA P-256 with the published public key', () => {
    const key = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==';
    const body =
      '[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0","smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]\r\n';
    const headers = {
      'X-Twilio-Email-Event-Webhook-Signature': 'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=',
      'X-Twilio-Email-Event-Webhook-Timestamp': '1600112502',
    };
    expect(v().verify('sendgrid', key, req(headers, body), at(1600112502))).toEqual(ok);
    const pem = `-----BEGIN PUBLIC KEY-----\n${key.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
    expect(v().verify('sendgrid', pem, req(headers, body), at(1600112502))).toEqual(ok);
    expect(v().verify('sendgrid', key, req(headers, body.replace('\r\n', '')), at(1600112502)).verified).toBe(false);
  });

  it('HubSpot v1 and v2 (api-client suite / HubSpot docs)', () => {
    const secret = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
    const v1Body =
      '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
    const v1 = { 'X-HubSpot-Signature': '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de', 'X-HubSpot-Signature-Version': 'v1' };
    expect(v().verify('hubspot', secret, req(v1, v1Body), new Date())).toEqual(ok);
    const v2 = { 'X-HubSpot-Signature': '9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900', 'X-HubSpot-Signature-Version': 'v2' };
    expect(v().verify('hubspot', secret, req(v2, '{"example_field":"example_value"}', 'https://www.example.com/webhook_uri'), new Date())).toEqual(ok);
    const v2get = { 'X-HubSpot-Signature': 'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e', 'X-HubSpot-Signature-Version': 'v2' };
    expect(v().verify('hubspot', secret, req(v2get, '', 'https://www.example.com/webhook_uri', 'GET'), new Date())).toEqual(ok);
  });

  it('Square Node SDK integration test', () => {
    const body =
      '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}';
    const headers = { 'x-square-hmacsha256-signature': 'GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=' };
    const url = 'https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9';
    expect(v().verify('square', 'Ibxx_5AKakO-3qeNVR61Dw', req(headers, body, url), new Date())).toEqual(ok);
    expect(v().verify('square', 'Ibxx_5AKakO-3qeNVR61Dw', req(headers, body, `${url}x`), new Date()).verified).toBe(false);
  });

  it('PagerDuty docs: a multi-signature header parses, and any v1 entry may match', () => {
    const r = v().verify('pagerduty', 'nope', req({ 'X-PagerDuty-Signature': 'v1=f03de6f61df6e454f3620c4d6aca17ad072d3f8bbb2760eac3b2ad391b5e8073,v1=130dcacb53a94d983a37cf2acba98e805a1c37185309ba56fdcccbcf00d6dd8b' }, '{}'), new Date());
    expect(r.error).toMatch(/does not match/);
  });
});

// §6b: body {"hello":"world"}, secret test_secret, timestamp 1700000000 (2023-11-14T22:13:20Z).
describe('§6b regression fixtures', () => {
  const body = '{"hello":"world"}';
  const now = at(1700000000);
  const cases: Array<[string, Record<string, string>, string?]> = [
    ['github', { 'X-Hub-Signature-256': 'sha256=b7b1e7e190c7aace9efb076f2394f2408bf389ed0398c526b97101ab2c84fed3' }],
    ['stripe', { 'Stripe-Signature': 't=1700000000,v1=a5d9de1d23a233e086ce2cd0940311c91c3039e7d92c0d96a82fda4881746747' }],
    ['calendly', { 'Calendly-Webhook-Signature': 't=1700000000,v1=a5d9de1d23a233e086ce2cd0940311c91c3039e7d92c0d96a82fda4881746747' }],
    ['mux', { 'Mux-Signature': 't=1700000000,v1=a5d9de1d23a233e086ce2cd0940311c91c3039e7d92c0d96a82fda4881746747' }],
    ['buildkite', { 'X-Buildkite-Signature': 'timestamp=1700000000,signature=a5d9de1d23a233e086ce2cd0940311c91c3039e7d92c0d96a82fda4881746747' }],
    ['tiktok', { 'TikTok-Signature': 't=1700000000,s=a5d9de1d23a233e086ce2cd0940311c91c3039e7d92c0d96a82fda4881746747' }],
    ['slack', { 'X-Slack-Signature': 'v0=3f9194a49468d3e83cf85860c062ae6b4a77012cabc1bda8af279244e5bdf3a5', 'X-Slack-Request-Timestamp': '1700000000' }],
    ['zoom', { 'x-zm-signature': 'v0=3f9194a49468d3e83cf85860c062ae6b4a77012cabc1bda8af279244e5bdf3a5', 'x-zm-request-timestamp': '1700000000' }],
    ['frameio', { 'X-Frameio-Signature': 'v0=3f9194a49468d3e83cf85860c062ae6b4a77012cabc1bda8af279244e5bdf3a5', 'X-Frameio-Request-Timestamp': '1700000000' }],
    ['shopify', { 'X-Shopify-Hmac-Sha256': 't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=' }],
    ['xero', { 'x-xero-signature': 't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=' }],
    ['heroku', { 'Heroku-Webhook-Hmac-SHA256': 't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=' }],
    ['aftership', { 'aftership-hmac-sha256': 't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=' }],
    ['docusign', { 'X-DocuSign-Signature-1': 'bm9wZQ==', 'X-DocuSign-Signature-2': 't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=' }],
    ['typeform', { 'Typeform-Signature': 'sha256=t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=' }],
    ['twitter', { 'x-twitter-webhooks-signature': 'sha256=t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=' }],
    ['pagerduty', { 'X-PagerDuty-Signature': 'v1=0000000000000000000000000000000000000000000000000000000000000000,v1=b7b1e7e190c7aace9efb076f2394f2408bf389ed0398c526b97101ab2c84fed3' }],
    ['bitbucket', { 'X-Hub-Signature': 'sha256=b7b1e7e190c7aace9efb076f2394f2408bf389ed0398c526b97101ab2c84fed3' }],
    ['jira', { 'X-Hub-Signature': 'sha256=b7b1e7e190c7aace9efb076f2394f2408bf389ed0398c526b97101ab2c84fed3' }],
    ['sentry', { 'Sentry-Hook-Signature': 'b7b1e7e190c7aace9efb076f2394f2408bf389ed0398c526b97101ab2c84fed3' }],
    ['launch_darkly', { 'X-LD-Signature': 'b7b1e7e190c7aace9efb076f2394f2408bf389ed0398c526b97101ab2c84fed3' }],
    ['modern_treasury', { 'X-Signature': 'b7b1e7e190c7aace9efb076f2394f2408bf389ed0398c526b97101ab2c84fed3' }],
    ['coinbase', { 'X-CC-Webhook-Signature': 'b7b1e7e190c7aace9efb076f2394f2408bf389ed0398c526b97101ab2c84fed3' }],
    ['pusher', { 'X-Pusher-Signature': 'b7b1e7e190c7aace9efb076f2394f2408bf389ed0398c526b97101ab2c84fed3' }],
    ['intercom', { 'X-Hub-Signature': 'sha1=3cf4f6de54c71fe21f03b5918c4b48bb83e3897a' }],
    ['webex', { 'X-Spark-Signature': '3cf4f6de54c71fe21f03b5918c4b48bb83e3897a' }],
    ['sonatype', { 'X-Nexus-Webhook-Signature': '3cf4f6de54c71fe21f03b5918c4b48bb83e3897a' }],
    ['terraform', { 'X-TFE-Notification-Signature': 'e8d13dcb2855465974e3edfe2d4421e6a1b2fa5b0a070ec51a177238c62c9c48ebedfa24af8c30a0b1e5cf80a90565eb054d0b2ad10ffeb78c66f558c446e8f4' }],
    ['airship', { 'X-UA-Signature': 'b7fa2144e59034c0c18b9d78022867696277cb82c0f61ec5d119e526db35fc53', 'X-UA-Timestamp': '1700000000' }],
    ['pinwheel', { 'X-Pinwheel-Signature': 'v2=403fbfc7b770e631f80813989718253843aca25b0a7f64b00ef74df96c2f036e', 'X-Timestamp': '1700000000' }],
    ['zendesk', { 'X-Zendesk-Webhook-Signature': 'C/KfF9K7wyKO5/zy4II/d+q3BBgU088veCw7/p7MyMA=', 'X-Zendesk-Webhook-Signature-Timestamp': '2023-11-14T22:13:20Z' }],
    ['box', { 'BOX-SIGNATURE-PRIMARY': 'odU6gZQPjn1trfk1YVbAZhgmZA7Gk20YDba2uxhV1Fk=', 'BOX-DELIVERY-TIMESTAMP': '2023-11-14T22:13:20Z' }],
    ['orb', { 'X-Orb-Signature': 'v1=249e0dcf4e35ebcbd9f6627c9fbe270369e54d11248b7b5cbbc5249207fb3227', 'X-Orb-Timestamp': '2023-11-14T22:13:20.000' }],
    ['hubspot', { 'X-HubSpot-Signature-v3': 'nkGvfO8zMKBfcIL5KYgUULLi50FJMeMGcJntZZ3Uukc=', 'X-HubSpot-Request-Timestamp': '1700000000000' }],
    ['square', { 'x-square-hmacsha256-signature': '/7QH/leUYaGIBoqUyNFacIhOi6QF8hXwx+1HRh4gDhA=' }],
  ];
  it.each(cases)('%s', (provider, headers) => {
    expect(v().verify(provider, 'test_secret', req(headers, body), now)).toEqual(ok);
  });

  it('svix with msg_test', () => {
    const headers = { 'svix-id': 'msg_test', 'svix-timestamp': '1700000000', 'svix-signature': 'v1,iINKx0MY8bYZerImh4BloDgACZoRsnZYgg2zNtzN604=' };
    expect(v().verify('svix', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', req(headers, body), now)).toEqual(ok);
  });

  it('zendesk with its static test secret (used as-is, not decoded)', () => {
    const headers = { 'X-Zendesk-Webhook-Signature': 'S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=', 'X-Zendesk-Webhook-Signature-Timestamp': '2021-03-25T05:09:27Z' };
    const r = v().verify('zendesk', 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==', req(headers, '{"event":"ticket.updated","id":123}'), new Date('2021-03-25T05:09:30Z'));
    expect(r).toEqual(ok);
  });

  it('twilio form POST to https://example.com/hook?x=1', () => {
    const headers = { 'X-Twilio-Signature': 'xdLa3In8n+Rl7DQe0HgbMjoa63o=', 'content-type': 'application/x-www-form-urlencoded' };
    expect(v().verify('twilio', 'test_secret', req(headers, 'Body=hi&From=%2B15550001111&To=%2B15550002222', 'https://example.com/hook?x=1'), now)).toEqual(ok);
  });

  it('microsoft_teams with a base64 security token', () => {
    const headers = { Authorization: 'HMAC rk26oub+1YLH57Bus4zM7X4jjhTX5mguetpB3WmjzxA=' };
    expect(v().verify('microsoft_teams', 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=', req(headers, body), now)).toEqual(ok);
  });

  it('mailgun: timestamp + token in the body', () => {
    const mg = JSON.stringify({ signature: { timestamp: '1700000000', token: 'a'.repeat(50), signature: 'a9237cf15708edf85fe7770acfa30639918d9178b8aaef1d61dc4192ee336e87' }, 'event-data': {} });
    expect(v().verify('mailgun', 'test_secret', req({ 'content-type': 'application/json' }, mg), now)).toEqual(ok);
  });
});
