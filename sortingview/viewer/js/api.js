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
    let st = await postJson("/api/task", body);
    while (st.status !== "finished" && st.status !== "error") {
      setPending(pid, { taskName, label: label || taskName, status: st.status });
      const q = new URLSearchParams({ wait: "20" });
      if (state.channel) q.set("channel", state.channel);
      st = await getJson(`/api/task/${st.jobId}?${q}`);
    }
    if (st.status === "error") throw new TaskFailure(st.error || "task failed", st.traceback);
    performance.mark(`sv:result:${label || taskName}`);
    return await decodeValue(st.result);
  } finally {
    setPending(pid, null);
  }
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
  let bytes = obj.data_gzip_b64 !== undefined ? await inflate(base64Bytes(obj.data_gzip_b64))
    : base64Bytes(obj.data_b64);
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
