// Talking to the sortingview server: tasks (submit + long-poll), curation, sign-in, decoding of results.
import { state, update } from "./store.js";

export class TaskFailure extends Error {
  constructor(message, traceback) {
    super(message);
    this.traceback = traceback || null;
  }
}

async function readJson(resp) {
  let body = null;
  try { body = await resp.json(); } catch (e) { /* not JSON: reported below */ }
  if (!resp.ok) {
    const msg = (body && body.error) || `${resp.status} ${resp.statusText}`;
    const err = new Error(msg);
    err.status = resp.status;
    throw err;
  }
  return body;
}

export async function getJson(url) {
  return readJson(await fetch(url, { headers: authHeaders() }));
}

export async function postJson(url, body) {
  const resp = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify(body),
  });
  return readJson(resp);
}

function authHeaders() {
  return state.token ? { Authorization: `Bearer ${state.token}` } : {};
}

let nextPendingId = 1;

// Run a task through the server (which hands it to the backend) and resolve with the decoded result.
// The task shows in the status bar while pending; an error rejects with a TaskFailure.
export async function runTask(taskName, taskInput, { label } = {}) {
  const pid = nextPendingId++;
  setPending(pid, { taskName, label: label || taskName, status: "submitted" });
  try {
    const body = { taskName, taskInput, waitSec: 20 };
    if (state.backendId !== null) body.backendId = state.backendId;
    if (state.channel) body.channel = state.channel;
    let st = await readAnswer(await fetch("/api/task", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: ANSWER_TYPES, ...authHeaders() },
      body: JSON.stringify(body),
    }));
    while (st.status !== "finished" && st.status !== "error") {
      setPending(pid, { taskName, label: label || taskName, status: st.status });
      const q = new URLSearchParams({ wait: "20" });
      if (state.channel) q.set("channel", state.channel);
      st = await readAnswer(await fetch(`/api/task/${st.jobId}?${q}`,
        { headers: { Accept: ANSWER_TYPES, ...authHeaders() } }));
    }
    if (st.status === "error") throw new TaskFailure(st.error || "task failed", st.traceback);
    performance.mark(`sv:result:${label || taskName}`);
    return await decodeValue(st.result);
  } finally {
    setPending(pid, null);
  }
}

// A task answer whose result holds large arrays may come as a bundle (sortingview/bundle.py): the JSON header,
// then the arrays' bytes, each from a multiple of 64 bytes; the header names them as [offset, length].
const BUNDLE_TYPE = "application/x-sortingview-bundle";
const ANSWER_TYPES = `${BUNDLE_TYPE}, application/json`;
const MAGIC = "sortingview-bundle-1\n";

async function readAnswer(resp) {
  if (!resp.ok || !(resp.headers.get("Content-Type") || "").startsWith(BUNDLE_TYPE)) return readJson(resp);
  return parseBundle(await resp.arrayBuffer());
}

export function parseBundle(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (magic !== MAGIC) throw new Error("the server's answer is not a sortingview bundle");
  const headAt = MAGIC.length + 8;
  const length = Number(new DataView(buffer).getBigUint64(MAGIC.length, true));
  if (length > bytes.length - headAt) throw new Error("the server's bundle is cut short (header)");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(headAt, headAt + length)));
  const base = headAt + length + ((64 - ((headAt + length) % 64)) % 64);
  const place = (where) => {
    if (typeof where === "string") return where;  // a small array, base64 text in the header
    const [offset, size] = where;
    if (base + offset + size > bytes.length) throw new Error("the server's bundle is cut short (arrays)");
    return new Uint8Array(buffer, base + offset, size);
  };
  const walk = (v) => {
    if (Array.isArray(v)) return v.some((x) => x && typeof x === "object") ? v.map(walk) : v;
    if (!v || typeof v !== "object") return v;
    if (v._type === "ndarray") {
      const out = { ...v };
      if (out.data_b64 !== undefined) out.data_b64 = place(out.data_b64);
      if (out.data_gzip_b64 !== undefined) out.data_gzip_b64 = place(out.data_gzip_b64);
      return out;
    }
    const out = {};
    for (const k of Object.keys(v)) out[k] = walk(v[k]);
    return out;
  };
  return walk(header);
}

function setPending(pid, entry) {
  const pending = new Map(state.pending);
  if (entry) pending.set(pid, entry); else pending.delete(pid);
  update({ pending });
}

// --- ndarray decoding: {"_type":"ndarray","shape","dtype","data_gzip_b64"|"data_b64"} (zlib, little endian)
const CTORS = {
  bool: Uint8Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
  float32: Float32Array, float64: Float64Array,
};

function base64Bytes(text) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);  // native: several times faster than atob + a loop
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function decodeArray(obj) {
  const Ctor = CTORS[obj.dtype];
  if (!Ctor) throw new Error(`unsupported array dtype ${obj.dtype}`);
  // bytes already (a bundle's array) or base64 text (a JSON answer)
  const asBytes = (d) => (d instanceof Uint8Array ? d : base64Bytes(d));
  let bytes = obj.data_gzip_b64 !== undefined ? await inflate(asBytes(obj.data_gzip_b64)) : asBytes(obj.data_b64);
  let data = new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
  if (obj.dtype === "int64" || obj.dtype === "uint64") data = Float64Array.from(data, Number);
  return new NDArray(obj.shape, obj.dtype, data);
}

export class NDArray {
  constructor(shape, dtype, data) { this.shape = shape; this.dtype = dtype; this.data = data; }
  get size() { return this.data.length; }
  // row i of a 2-D array, as a typed-array view (no copy)
  row(i) { const n = this.shape[1]; return this.data.subarray(i * n, (i + 1) * n); }
  get(i, j) { return this.data[i * this.shape[1] + j]; }
  toArray() { return Array.from(this.data); }
}

export async function decodeValue(v) {
  if (Array.isArray(v)) return Promise.all(v.map(decodeValue));
  if (v && typeof v === "object") {
    if (v._type === "ndarray") return decodeArray(v);
    const keys = Object.keys(v);
    const vals = await Promise.all(keys.map((k) => decodeValue(v[k])));
    const out = {};
    keys.forEach((k, i) => { out[k] = vals[i]; });
    return out;
  }
  return v;
}

// Plain JS array from an NDArray or a list
export function toList(x) {
  if (x instanceof NDArray) return x.toArray();
  return Array.isArray(x) ? x : [];
}
