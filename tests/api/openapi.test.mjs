/*
 * Keeps src/api/openapi.json true (DESIGN.md section 4):
 *   1. the document is valid OpenAPI 3.1 (swagger-parser), every schema in it compiles as JSON
 *      Schema 2020-12 in Ajv's strict mode and every example matches its schema;
 *   2. its operations are exactly the router's routes: `$KPI_BIN serve --print-routes` when KPI_BIN is
 *      set (failing when that fails), else the table of src/api/routes.c; operationIds are the
 *      route names, public routes need no token, cached routes document ETag and 304;
 *   3. with KPI_BIN set, a real server serves the document byte for byte at /api/v1/openapi.json
 *      without a token, and stops with exit status 0 on SIGTERM;
 *   4. with KPI_BIN set, the answers of a server on the demo database (every GET route, a few
 *      writes and errors) have a documented status, content type and headers, and bodies that
 *      match the documented schemas.
 * Run with tests/api/run.sh (or `node --test tests/api/`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC_PATH = path.join(ROOT, 'src/api/openapi.json');
const ROUTES_C = path.join(ROOT, 'src/api/routes.c');
const KPI_BIN = process.env.KPI_BIN || '';

const DOC_BYTES = readFileSync(DOC_PATH);
const DOC = JSON.parse(DOC_BYTES.toString('utf8'));

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/* Every operation of the document: [{method: "GET", path, op, pathItem}]. */
function operations(doc) {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths || {}))
    for (const m of METHODS) if (item[m]) out.push({ method: m.toUpperCase(), path: p, op: item[m], pathItem: item });
  return out;
}

/* Follows a local "#/a/b" reference within the document. */
function deref(doc, obj) {
  let seen = 0;
  while (obj && obj.$ref) {
    assert.ok(obj.$ref.startsWith('#/'), `only local references are used: ${obj.$ref}`);
    obj = obj.$ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).reduce((o, k) => o?.[k], doc);
    assert.ok(obj, 'dangling reference');
    assert.ok(++seen < 10, 'reference loop');
  }
  return obj;
}

/* The route table of src/api/routes.c: [{method, path, name, flags: Set}]. */
function routesFromSource() {
  const src = readFileSync(ROUTES_C, 'utf8');
  const v1 = /#define\s+V1\s+"([^"]*)"/.exec(src)?.[1];
  assert.ok(v1, 'routes.c defines V1');
  const re = /\{\s*API_([A-Z]+)\s*,\s*(V1\s*)?"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*\w+\s*,\s*([^}]*)\}/g;
  const out = [];
  for (const m of src.matchAll(re)) {
    const flags = new Set(m[5].split('|').map((s) => s.trim()).filter((s) => s && s !== '0'));
    out.push({ method: m[1], path: (m[2] ? v1 : '') + m[3], name: m[4], flags });
  }
  assert.ok(out.length > 0, 'routes.c has a route table');
  return out;
}

/* The routes the binary serves, one "METHOD PATTERN" line each. */
function routesFromBinary(bin) {
  const r = spawnSync(bin, ['serve', '--print-routes'], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.error, undefined, `cannot run ${bin}: ${r.error}`);
  assert.equal(r.status, 0, `${bin} serve --print-routes exited with ${r.status}: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.length > 0, 'serve --print-routes printed no route');
  return lines.map((l) => {
    const m = /^([A-Z]+) (\/\S*)$/.exec(l.trim());
    assert.ok(m, `serve --print-routes: line is not "METHOD PATTERN": ${JSON.stringify(l)}`);
    return { method: m[1], path: m[2] };
  });
}

/* ---- 1. validity ---- */

test('the document is valid OpenAPI 3.1 (swagger-parser)', async () => {
  assert.match(DOC.openapi, /^3\.1\.\d+$/);
  // validate() dereferences in place: give it a copy.
  await SwaggerParser.validate(structuredClone(DOC));
});

test('operationIds are unique and path parameters match the path templates', () => {
  const ids = new Map();
  for (const { method, path: p, op, pathItem } of operations(DOC)) {
    const where = `${method} ${p}`;
    assert.ok(op.operationId, `${where} has an operationId`);
    assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} of ${where} is also that of ${ids.get(op.operationId)}`);
    ids.set(op.operationId, where);
    const params = [...(pathItem.parameters || []), ...(op.parameters || [])].map((x) => deref(DOC, x));
    const seen = new Set();
    for (const prm of params) {
      const k = `${prm.in}:${prm.name}`;
      assert.ok(!seen.has(k), `${where}: parameter ${k} is given twice`);
      seen.add(k);
    }
    const templ = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    const inPath = params.filter((x) => x.in === 'path');
    assert.deepEqual(inPath.map((x) => x.name).sort(), templ, `${where}: path parameters are those of the template`);
    for (const x of inPath) assert.equal(x.required, true, `${where}: path parameter ${x.name} is required`);
  }
});

test('every operation documents the error classes that apply', () => {
  for (const { method, path: p, op } of operations(DOC)) {
    const where = `${method} ${p}`;
    const codes = Object.keys(op.responses || {});
    assert.ok(codes.some((c) => /^2\d\d$/.test(c)), `${where} documents its success`);
    for (const c of ['400', '405', '500']) assert.ok(codes.includes(c), `${where} documents ${c}`);
    const isPublic = Array.isArray(op.security) && op.security.length === 0;
    assert.equal(codes.includes('401'), !isPublic, `${where}: 401 is documented exactly when a token is needed`);
    const createsAtPath = method === 'PUT' && codes.includes('201'); // PUT of a new key creates it
    if (/\{/.test(p) && !createsAtPath) assert.ok(codes.includes('404'), `${where} documents 404`);
    if (op.requestBody) for (const c of ['413', '415', '422']) assert.ok(codes.includes(c), `${where} documents ${c}`);
    for (const [code, res] of Object.entries(op.responses)) {
      const r = deref(DOC, res);
      if (/^[45]\d\d$/.test(code))
        assert.deepEqual(Object.keys(r.content || {}), ['application/problem+json'], `${where} ${code} is a problem document`);
    }
  }
});

/* Ajv in strict mode, with the document's component schemas under ANCHOR and references to them
 * rewritten, so that typos and meaningless keywords fail instead of being ignored. */
const ANCHOR = 'https://kpi.invalid/openapi.json';
function rewriteRefs(v) {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v))
      o[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/components/schemas/')
        ? `${ANCHOR}#/$defs/${x.slice('#/components/schemas/'.length)}`
        : rewriteRefs(x);
    return o;
  }
  return v;
}

/* Every schema of the document outside components/schemas, with where it is. */
function inlineSchemas(doc) {
  const out = [];
  const media = (content, where) => {
    for (const [type, mt] of Object.entries(content || {})) if (mt.schema) out.push({ where: `${where} ${type}`, schema: mt.schema, media: mt });
  };
  const param = (prm, where) => {
    if (prm.$ref) return;
    if (prm.schema) out.push({ where: `${where} parameter ${prm.name}`, schema: prm.schema, media: prm });
  };
  const response = (res, where) => {
    if (res.$ref) return;
    media(res.content, where);
    for (const [h, hd] of Object.entries(res.headers || {})) if (!hd.$ref && hd.schema) out.push({ where: `${where} header ${h}`, schema: hd.schema });
  };
  for (const { method, path: p, op, pathItem } of operations(doc)) {
    const where = `${method} ${p}`;
    for (const prm of [...(pathItem.parameters || []), ...(op.parameters || [])]) param(prm, where);
    if (op.requestBody && !op.requestBody.$ref) media(op.requestBody.content, `${where} request`);
    for (const [code, res] of Object.entries(op.responses || {})) response(res, `${where} ${code}`);
  }
  const c = doc.components || {};
  for (const [n, prm] of Object.entries(c.parameters || {})) param(prm, `components/parameters/${n}`);
  for (const [n, res] of Object.entries(c.responses || {})) response(res, `components/responses/${n}`);
  for (const [n, hd] of Object.entries(c.headers || {})) if (hd.schema) out.push({ where: `components/headers/${n}`, schema: hd.schema });
  return out;
}

/* Sub-schemas of a schema that carry `examples` (the JSON Schema keyword: an array). */
function schemasWithExamples(schema, acc = []) {
  if (Array.isArray(schema)) schema.forEach((x) => schemasWithExamples(x, acc));
  else if (schema && typeof schema === 'object') {
    if (Array.isArray(schema.examples)) acc.push(schema);
    for (const [k, v] of Object.entries(schema)) if (k !== 'examples' && k !== 'example' && k !== 'const' && k !== 'default') schemasWithExamples(v, acc);
  }
  return acc;
}

test('every schema compiles as strict JSON Schema 2020-12 and every example matches it', () => {
  const ajv = new Ajv2020({ strict: true, strictTypes: true, allowUnionTypes: true, allErrors: true, validateFormats: false });
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']); // OpenAPI's own schema keywords
  ajv.addSchema({ $id: ANCHOR, $defs: rewriteRefs(DOC.components?.schemas || {}) });
  const check = (where, schema, media) => {
    let validate;
    assert.doesNotThrow(() => { validate = ajv.compile(rewriteRefs(schema)); }, `${where}: the schema compiles`);
    const examples = [];
    if (media && 'example' in media) examples.push(media.example);
    for (const ex of Object.values(media?.examples || {})) if (!ex.$ref && 'value' in ex) examples.push(ex.value);
    for (const sub of schemasWithExamples(schema)) {
      const v = sub === schema ? validate : ajv.compile(rewriteRefs(sub));
      for (const ex of sub.examples) assert.ok(v(ex), `${where}: example ${JSON.stringify(ex)} fails: ${ajv.errorsText(v.errors)}`);
    }
    for (const ex of examples) assert.ok(validate(ex), `${where}: example fails its schema: ${ajv.errorsText(validate.errors)}`);
  };
  for (const name of Object.keys(DOC.components?.schemas || {})) check(`components/schemas/${name}`, DOC.components.schemas[name], null);
  for (const { where, schema, media } of inlineSchemas(DOC)) check(where, schema, media);
});

/* ---- 2. the document against the router ---- */

test('the document has exactly the routes of the router', (t) => {
  let routes;
  if (KPI_BIN) {
    routes = routesFromBinary(KPI_BIN);
  } else {
    t.diagnostic('KPI_BIN is not set: routes read from src/api/routes.c instead of `kpi serve --print-routes`');
    routes = routesFromSource();
  }
  const fromRouter = new Set(routes.map((r) => `${r.method} ${r.path}`));
  assert.equal(fromRouter.size, routes.length, 'the router has no route twice');
  const fromDoc = new Set(operations(DOC).map((o) => `${o.method} ${o.path}`));
  const missing = [...fromRouter].filter((r) => !fromDoc.has(r));
  const extra = [...fromDoc].filter((r) => !fromRouter.has(r));
  assert.deepEqual(missing, [], 'routes the document does not describe');
  assert.deepEqual(extra, [], 'operations of the document that are not routes');
});

test('operationIds, security and caching follow the route table', () => {
  const byKey = new Map(operations(DOC).map((o) => [`${o.method} ${o.path}`, o.op]));
  for (const r of routesFromSource()) {
    const where = `${r.method} ${r.path}`;
    const op = byKey.get(where);
    if (!op) continue; // reported by the previous test
    assert.equal(op.operationId, r.name, `${where}: operationId is the route name`);
    const isPublic = Array.isArray(op.security) && op.security.length === 0;
    assert.equal(isPublic, r.flags.has('API_PUBLIC'), `${where}: security: [] exactly on public routes`);
    if (!isPublic) assert.equal(op.security, undefined, `${where}: uses the global security`);
    const cached = r.flags.has('API_CACHED');
    const ok = deref(DOC, op.responses?.['200'] || {});
    const params = (op.parameters || []).map((x) => deref(DOC, x));
    assert.equal('304' in (op.responses || {}), cached, `${where}: 304 is documented exactly on cached routes`);
    assert.equal('ETag' in (ok.headers || {}), cached, `${where}: the 200's ETag header is documented exactly on cached routes`);
    assert.equal(params.some((x) => x.in === 'header' && x.name === 'If-None-Match'), cached,
      `${where}: If-None-Match is documented exactly on cached routes`);
  }
  assert.deepEqual(DOC.security, [{ bearerAuth: [] }], 'bearer tokens are required by default');
  assert.equal(DOC.components?.securitySchemes?.bearerAuth?.scheme, 'bearer');
});

/* ---- 3. the running server ---- */

const SKIP_SERVER = KPI_BIN ? false : 'KPI_BIN is not set (tests/api/run.sh sets it when build/src/cli/kpi exists)';

/* Starts `kpi serve` on a free port; resolves {proc, base, exited} once it listens. */
async function startServer(bin, db) {
  const proc = spawn(bin, ['serve', '--db', db, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kpi serve did not say where it listens within 15 s; stderr: ${stderr}`)), 15000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (s) => {
      stderr += s;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`kpi serve exited (${code ?? signal}) before listening: ${stderr}`)); });
  });
  return { proc, base, exited, stderr: () => stderr };
}

test('the server serves this document byte for byte, without a token', { skip: SKIP_SERVER, timeout: 60000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kpi-openapi-'));
  let srv;
  try {
    const db = path.join(dir, 't.db');
    const init = spawnSync(KPI_BIN, ['init', '--db', db], { encoding: 'utf8', timeout: 30000 });
    assert.equal(init.status, 0, `kpi init failed: ${init.stderr}`);
    srv = await startServer(KPI_BIN, db);

    const res = await fetch(`${srv.base}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') || '', /^application\/json\b/);
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.equals(DOC_BYTES), `the served document (${body.length} bytes) differs from src/api/openapi.json (${DOC_BYTES.length} bytes)`);

    // Routes the document makes public answer without a token; the others refuse with a 401
    // problem document.
    const isPublic = new Set(operations(DOC).filter((o) => Array.isArray(o.op.security) && o.op.security.length === 0)
      .map((o) => `${o.method} ${o.path}`));
    for (const r of routesFromBinary(KPI_BIN)) {
      if (r.method !== 'GET' || r.path.includes('{')) continue;
      const got = await fetch(srv.base + r.path);
      await got.arrayBuffer();
      if (isPublic.has(`GET ${r.path}`)) {
        assert.notEqual(got.status, 401, `GET ${r.path} needs no token`);
      } else {
        assert.equal(got.status, 401, `GET ${r.path} without a token`);
        assert.match(got.headers.get('content-type') || '', /^application\/problem\+json\b/, `GET ${r.path}: 401 is a problem document`);
      }
    }

    srv.proc.kill('SIGTERM');
    const { code, signal } = await srv.exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `kpi serve stops cleanly on SIGTERM; stderr: ${srv.stderr()}`);
    srv = null;
  } finally {
    if (srv && srv.proc.exitCode === null && srv.proc.signalCode === null) {
      srv.proc.kill('SIGKILL');
      await srv.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

/* Checks one answer against the document: documented status, content type, headers and schema. */
function responseChecker() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/);
  ajv.addFormat('uri-reference', true);
  ajv.addSchema({ $id: ANCHOR, $defs: rewriteRefs(DOC.components?.schemas || {}) });
  const compiled = new Map();
  return (method, template, res, text) => {
    const where = `${method} ${template} -> ${res.status}`;
    const op = DOC.paths[template]?.[method.toLowerCase()];
    const documented = op ? op.responses?.[String(res.status)] : res.status === 405 ? DOC.components.responses.MethodNotAllowed : undefined;
    assert.ok(documented, `${where}: status not documented (${text.slice(0, 300)})`);
    const r = deref(DOC, documented);
    for (const h of Object.keys(r.headers || {})) assert.ok(res.headers.get(h) !== null, `${where}: header ${h} missing`);
    if (!r.content) {
      assert.equal(text, '', `${where}: no body documented`);
      return;
    }
    const type = (res.headers.get('content-type') || '').split(';')[0].trim();
    const media = Object.entries(r.content).find(([k]) => k.split(';')[0].trim() === type);
    assert.ok(media, `${where}: content type '${type}' not documented (${Object.keys(r.content).join(', ')})`);
    if (!/json$/.test(type)) return;
    let body;
    assert.doesNotThrow(() => { body = JSON.parse(text); }, `${where}: body is not JSON`);
    const schema = media[1].schema;
    if (!compiled.has(schema)) compiled.set(schema, ajv.compile(rewriteRefs(schema)));
    const validate = compiled.get(schema);
    assert.ok(validate(body), `${where}: body does not match the schema: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`);
  };
}

test('answers of the server on the demo database match the document', { skip: SKIP_SERVER, timeout: 120000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kpi-openapi-'));
  let srv;
  try {
    const db = path.join(dir, 't.db');
    for (const args of [['init', '--db', db], ['demo', '--db', db]]) {
      const r = spawnSync(KPI_BIN, args, { encoding: 'utf8', timeout: 60000 });
      assert.equal(r.status, 0, `kpi ${args[0]} failed: ${r.stderr}`);
    }
    const tok = spawnSync(KPI_BIN, ['token', 'create', 'openapi-test', '--json', '--db', db], { encoding: 'utf8', timeout: 30000 });
    assert.equal(tok.status, 0, `kpi token create failed: ${tok.stderr}`);
    const token = JSON.parse(tok.stdout).token;
    srv = await startServer(KPI_BIN, db);
    const check = responseChecker();
    const call = async (method, template, url, { body, type = 'application/json', auth = true, headers = {} } = {}) => {
      const h = { ...headers };
      if (auth) h.authorization = `Bearer ${token}`;
      if (body !== undefined) h['content-type'] = type;
      const res = await fetch(srv.base + url, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      check(method, template, res, text);
      return { res, text, json: () => JSON.parse(text) };
    };

    // A measured sum KPI whose points carry dims for the per-KPI routes (so that drivers has
    // something to split), and two periods of its series for drivers.
    const kpis = (await call('GET', '/api/v1/kpis', '/api/v1/kpis?limit=1000')).json().items;
    assert.ok(kpis.length > 0, 'the demo database has KPIs');
    let kpi = kpis[0];
    for (const k of kpis.filter((k) => k.formula === null && k.aggregation === 'sum')) {
      const points = (await call('GET', '/api/v1/kpis/{key}/points', `/api/v1/kpis/${k.key}/points?limit=1`)).json().items;
      if (points.length && Object.keys(points[0].dims).length) {
        kpi = k;
        break;
      }
    }
    const rows = (await call('GET', '/api/v1/kpis/{key}/series', `/api/v1/kpis/${kpi.key}/series`)).json().rows.filter((r) => r.value !== null);
    const extra = { '/api/v1/kpis/{key}/drivers': rows.length >= 2 ? `?from=${rows[rows.length - 2].period}&to=${rows[rows.length - 1].period}` : '' };

    // Every GET route.
    for (const r of routesFromBinary(KPI_BIN)) {
      if (r.method !== 'GET' || /\{(?!key\})/.test(r.path)) continue;
      const got = await call('GET', r.path, r.path.replace('{key}', kpi.key) + (extra[r.path] || ''));
      if (got.res.headers.get('etag')) {
        const again = await fetch(srv.base + r.path.replace('{key}', kpi.key) + (extra[r.path] || ''),
          { headers: { authorization: `Bearer ${token}`, 'if-none-match': got.res.headers.get('etag') } });
        check('GET', r.path, again, await again.text());
        assert.equal(again.status, 304, `GET ${r.path} with If-None-Match of its ETag`);
      }
    }

    // Writes and errors.
    await call('GET', '/api/v1/kpis/{key}', '/api/v1/kpis/no_such_kpi');
    await call('GET', '/api/v1/kpis', '/api/v1/kpis?no_such_parameter=1');
    await call('GET', '/api/v1/kpis', '/api/v1/kpis?limit=0');
    await call('GET', '/api/v1/kpis', '/api/v1/kpis', { auth: false });
    await call('DELETE', '/api/v1/org', '/api/v1/org');
    const def = { key: 'openapi_probe', name: 'Probe', unit: 'EUR', targets: [{ baseline: 1, baseline_date: '2026-01-01', value: 2, date: '2026-12-31' }] };
    await call('POST', '/api/v1/kpis', '/api/v1/kpis', { body: def });
    await call('POST', '/api/v1/kpis', '/api/v1/kpis', { body: def });
    await call('POST', '/api/v1/kpis', '/api/v1/kpis', { body: { key: 'openapi_bad', name: 'Bad', granularity: 'fortnight' } });
    await call('POST', '/api/v1/kpis', '/api/v1/kpis', { body: '{"key":' });
    await call('POST', '/api/v1/kpis', '/api/v1/kpis', { body: 'key=x', type: 'text/plain' });
    const stored = (await call('GET', '/api/v1/kpis/{key}', '/api/v1/kpis/openapi_probe')).json();
    await call('PUT', '/api/v1/kpis/{key}', '/api/v1/kpis/openapi_probe', { body: stored });
    await call('PATCH', '/api/v1/kpis/{key}', '/api/v1/kpis/openapi_probe', { body: { unit: null } });
    await call('POST', '/api/v1/kpis/{key}/points', '/api/v1/kpis/openapi_probe/points', { body: [{ at: '2026-11-01', value: 1, dims: { region: 'eu' } }] });
    await call('POST', '/api/v1/kpis/{key}/points', '/api/v1/kpis/openapi_probe/points', { body: 'at,value,region\n2026-10-01,3,us\n', type: 'text/csv' });
    await call('POST', '/api/v1/points', '/api/v1/points', { body: [{ kpi: 'openapi_probe', at: '2026-04-31', value: 1 }, { kpi: 'no_such_kpi', at: '2026-01-01', value: 1 }] });
    await call('GET', '/api/v1/kpis/{key}/points', '/api/v1/kpis/openapi_probe/points?limit=1');
    await call('POST', '/api/v1/kpis/{key}/targets', '/api/v1/kpis/openapi_probe/targets', { body: { baseline: 1, baseline_date: '2026-01-01', value: 3, date: '2027-06-30' } });
    await call('DELETE', '/api/v1/kpis/{key}/targets/{date}', '/api/v1/kpis/openapi_probe/targets/2027-06-30');
    await call('POST', '/api/v1/kpis/{key}/reviews', '/api/v1/kpis/openapi_probe/reviews', { body: { note: 'fine', actions: [{ text: 'check', owner: 'ann', due: '2026-12-01' }] } });
    const action = (await call('GET', '/api/v1/actions', '/api/v1/actions?open=true')).json().items[0];
    if (action) await call('PATCH', '/api/v1/actions/{id}', `/api/v1/actions/${action.id}`, { body: { done: true } });
    await call('POST', '/api/v1/annotations', '/api/v1/annotations', { body: { text: 'holiday' } });
    await call('POST', '/api/v1/tokens', '/api/v1/tokens', { body: { name: 'openapi-probe' } });
    await call('POST', '/api/v1/tokens', '/api/v1/tokens', { body: { name: 'openapi-probe' } });
    await call('DELETE', '/api/v1/tokens/{name}', '/api/v1/tokens/openapi-probe');
    await call('DELETE', '/api/v1/kpis/{key}', '/api/v1/kpis/openapi_probe');

    srv.proc.kill('SIGTERM');
    const { code } = await srv.exited;
    assert.equal(code, 0, `kpi serve stops cleanly on SIGTERM; stderr: ${srv.stderr()}`);
    srv = null;
  } finally {
    if (srv && srv.proc.exitCode === null && srv.proc.signalCode === null) {
      srv.proc.kill('SIGKILL');
      await srv.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
