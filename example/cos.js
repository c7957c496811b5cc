'use strict';

// A minimal COS client for the example: GET and PUT Object, signed with
// COS's HMAC-SHA1 request signature (COS API docs, "Request Signature";
// cos-go-sdk-v5 auth.go computes the same). A real service would use
// cos-nodejs-sdk-v5; this file keeps the example free of dependencies.
//
// Where COS is: in SCF, https://<bucket>.cos.<region>.myqcloud.com, signed
// with the temporary keys of the function's role (TENCENTCLOUD_SECRETID,
// TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN). On the asyncfn
// emulator, which gives its functions ASYNCFN_COS_PROXY (its address) and
// keys it accepts in the same variables, requests go to the emulator as to
// an HTTP proxy, with the same COS URL and Host — the emulator's COS front
// reads the bucket from the Host, as COS does.

const crypto = require('crypto');
const http = require('http');
const https = require('https');

// RFC 3986 encoding, as COS signs: everything but A-Z a-z 0-9 - _ . ~
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const hmac = (key, msg) => crypto.createHmac('sha1', key).update(msg).digest('hex');
const sha1 = (msg) => crypto.createHash('sha1').update(msg).digest('hex');

function authorization(method, path, headers, id, key) {
  const now = Math.floor(Date.now() / 1000);
  const time = `${now - 60};${now + 900}`;
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const value = (n) => String(headers[Object.keys(headers).find((k) => k.toLowerCase() === n)]);
  const formatted = names.map((n) => `${enc(n)}=${enc(value(n))}`).join('&');
  const httpString = `${method.toLowerCase()}\n${path}\n\n${formatted}\n`;
  const signature = hmac(hmac(key, time), `sha1\n${time}\n${sha1(httpString)}\n`);
  return `q-sign-algorithm=sha1&q-ak=${id}&q-sign-time=${time}&q-key-time=${time}` +
    `&q-header-list=${names.map(enc).join(';')}&q-url-param-list=&q-signature=${signature}`;
}

// parse reads "cos://bucket-appid/key".
function parse(uri) {
  const m = /^cos:\/\/([a-z0-9-]+-[0-9]+)\/(.+)$/.exec(uri || '');
  if (!m) throw new Error(`not a cos://<bucket>-<appid>/<key> URI: ${uri}`);
  return { bucket: m[1], key: m[2] };
}

function request(method, uri, body) {
  const { bucket, key } = parse(uri);
  return send(method, bucket, key, uri, body);
}

function send(method, bucket, key, uri, body) {
  const env = process.env;
  const region = env.TENCENTCLOUD_REGION || 'ap-guangzhou';
  const host = `${bucket}.cos.${region}.myqcloud.com`;
  const path = '/' + key; // signed decoded, sent encoded
  const headers = { host };
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  if (env.TENCENTCLOUD_SESSIONTOKEN) headers['x-cos-security-token'] = env.TENCENTCLOUD_SESSIONTOKEN;
  const id = env.TENCENTCLOUD_SECRETID || 'asyncfn-local';
  const secret = env.TENCENTCLOUD_SECRETKEY || 'asyncfn-local';
  headers.authorization = authorization(method, path, headers, id, secret);
  const urlPath = '/' + key.split('/').map(encodeURIComponent).join('/');
  let transport = https;
  let opts = { host, path: urlPath, method, headers };
  if (env.ASYNCFN_COS_PROXY) {
    const proxy = new URL(env.ASYNCFN_COS_PROXY);
    transport = http;
    opts = { host: proxy.hostname, port: proxy.port, path: `http://${host}${urlPath}`, method, headers };
  }
  return new Promise((resolve, reject) => {
    const req = transport.request(opts, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        if (res.statusCode >= 300) {
          const code = /<Code>([^<]*)<\/Code>/.exec(data.toString()) || [];
          reject(new Error(`COS ${method} ${uri}: ${res.statusCode} ${code[1] || ''}`));
          return;
        }
        resolve(data);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

exports.getObject = (uri) => request('GET', uri);
// putBucket creates a bucket ("media-dev-1250000000") in TENCENTCLOUD_REGION.
exports.putBucket = (bucket) => send('PUT', bucket, '', `cos://${bucket}`, '');
exports.putObject = (uri, body) => request('PUT', uri, body);
exports.parse = parse;
