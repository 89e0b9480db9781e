// Shared helpers of the ZADS-TS pages. The pages read the public JSON API; nothing here holds data.
import { JD_UNIX_EPOCH } from './time.js';

/** An error the API answered with ({"error": {"code", "message"}}), or a network failure. */
export class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GET (or another method) a JSON document of the API; throws ApiFailure with the API's own message. */
export async function api(path, { method = 'GET', token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiFailure(0, 'NETWORK', `the server could not be reached (${err.message})`);
  }
  const text = await res.text();
  let doc;
  try {
    doc = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiFailure(res.status, 'BAD_RESPONSE', `the server answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const e = doc && doc.error ? doc.error : { code: `HTTP_${res.status}`, message: res.statusText };
    throw new ApiFailure(res.status, e.code, e.message);
  }
  return doc;
}

/** Creates an element: el('td', { class: 'num' }, '12'). Children are nodes or strings (never HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

/** Shows an error where the page's content would be. */
export function showError(target, err) {
  const code = err && err.code ? ` (${err.code})` : '';
  target.replaceChildren(el('p', { class: 'error', role: 'alert' }, `${err && err.message ? err.message : String(err)}${code}`));
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

/** Julian Date → Unix seconds. */
export const jdToUnix = (jd) => (jd - JD_UNIX_EPOCH) * 86400;

/** Julian Date → "2018-08-19 04:12:33" (UTC). */
export function jdToIso(jd) {
  return new Date(jdToUnix(jd) * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

/** "20180819" → "2018-08-19" */
export const nightLabel = (n) => `${n.slice(0, 4)}-${n.slice(4, 6)}-${n.slice(6, 8)}`;

/** ZTF filter ids: 1 g, 2 r, 3 i. */
export const BANDS = { 1: { name: 'g', color: '#2a9d3a' }, 2: { name: 'r', color: '#d0312d' }, 3: { name: 'i', color: '#b08900' } };

export function fixed(v, digits) {
  return v === null || v === undefined || Number.isNaN(v) ? '' : Number(v).toFixed(digits);
}
