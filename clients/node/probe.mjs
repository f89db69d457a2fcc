// Drives the official OpenAI Node.js client (npm `openai`) for the ATLAS acceptance suite.
// Reads one JSON request on stdin, writes one JSON result on stdout; the protocol is
// described in atlas_suite/probes.py.
//
// An API error is a result ({"ok": false, ...}, exit 0). Only a probe problem (bad stdin,
// an unknown operation, a transport failure) exits non-zero, with the reason on stderr.
import OpenAI from 'openai';
import { VERSION } from 'openai/version';

const CLIENT = 'openai-node';
const OPERATIONS = new Set(['models', 'completion', 'completion_stream', 'chat', 'chat_stream']);

class ProbeRequestError extends Error {}

function emit(result) {
  process.stdout.write(JSON.stringify({ ...result, client: CLIENT, client_version: VERSION }) + '\n');
}

async function readStdin() {
  const parts = [];
  for await (const part of process.stdin) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

function chatMessages(req) {
  if (Array.isArray(req.messages) && req.messages.length > 0) return req.messages;
  return [{ role: 'user', content: req.prompt ?? '' }];
}

async function run(client, req) {
  if (!OPERATIONS.has(req.operation)) {
    throw new ProbeRequestError(`unknown operation ${JSON.stringify(req.operation)}`);
  }
  const res = { atlas: null };
  if (req.operation === 'models') {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    res.models = ids;
    res.model = ids[0] ?? null;
    return res;
  }
  let model = req.model;
  if (!model) {
    const page = await client.models.list();
    if (!page.data.length) throw new ProbeRequestError('the server lists no model');
    model = page.data[0].id;
  }
  const params = { model, temperature: req.temperature ?? 0 };
  if (req.max_tokens != null) params.max_tokens = req.max_tokens;
  // The SDK sends every key of the params object in the JSON body, typed or not: that is
  // its documented way to pass an extra body field such as the ATLAS extension.
  if (req.atlas != null) params.atlas = req.atlas;
  if (Array.isArray(req.stop) && req.stop.length > 0) params.stop = req.stop;
  if (Array.isArray(req.tools) && req.tools.length > 0) params.tools = req.tools;
  if (req.tool_choice) params.tool_choice = req.tool_choice;

  const streaming = req.operation.endsWith('_stream');
  const chat = req.operation.startsWith('chat');
  if (chat) params.messages = chatMessages(req);
  else params.prompt = req.prompt ?? '';

  const api = chat ? client.chat.completions : client.completions;
  if (!streaming) {
    const resp = await api.create(params);
    res.model = resp.model;
    res.atlas = resp.atlas ?? null;
    res.usage = resp.usage ?? null;
    res.raw = [resp]; // the answer as it arrived: the suite checks it with OpenAI's types
    const choice = resp.choices?.[0];
    if (choice) {
      res.text = chat ? (choice.message?.content ?? '') : (choice.text ?? '');
      res.finish_reason = choice.finish_reason ?? null;
      res.tool_calls = (choice.message?.tool_calls ?? []).map(
        (call) => ({ name: call.function?.name, arguments: call.function?.arguments }));
    }
    return res;
  }
  if (req.include_usage) params.stream_options = { include_usage: true };
  const stream = await api.create({ ...params, stream: true });
  let text = '';
  let chunks = 0;
  res.raw = [];
  for await (const chunk of stream) {
    chunks += 1;
    res.raw.push(chunk);
    if (chunk.usage) res.usage = chunk.usage;
    if (chunk.model) res.model = chunk.model;
    if (chunk.atlas != null) res.atlas = chunk.atlas;
    for (const choice of chunk.choices ?? []) { // the last chunk may have none: fine
      if ((choice.index ?? 0) !== 0) continue;
      text += chat ? (choice.delta?.content ?? '') : (choice.text ?? '');
      if (choice.finish_reason) res.finish_reason = choice.finish_reason;
    }
  }
  res.text = text;
  res.chunks = chunks;
  return res;
}

async function main() {
  let req;
  try {
    req = JSON.parse(await readStdin());
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
      throw new ProbeRequestError('the probe request is not a JSON object');
    }
    if (!req.base_url) throw new ProbeRequestError('the probe request has no base_url');
  } catch (err) {
    const message = err instanceof SyntaxError ? `the probe request is not valid JSON: ${err.message}` : err.message;
    emit({ ok: false, error_type: 'ProbeRequestError', status: null, message });
    process.stderr.write(`node-probe: ${message}\n`);
    process.exitCode = 2;
    return;
  }
  const timeoutMs = (req.timeout_s ?? 120) * 1000;
  const client = new OpenAI({
    baseURL: req.base_url,
    apiKey: req.api_key || 'no-key',
    maxRetries: 0,
    timeout: timeoutMs,
  });
  try {
    emit({ ok: true, ...(await run(client, req)) });
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status != null) {
      emit({
        ok: false,
        error_type: err.constructor.name,
        status: err.status,
        message: err.message,
        param: err.param ?? null,
        type: err.type ?? null,
        error_body: err.error ?? null,
      });
      return;
    }
    if (err instanceof ProbeRequestError) {
      emit({ ok: false, error_type: 'ProbeRequestError', status: null, message: err.message });
    }
    process.stderr.write(`node-probe: ${err?.constructor?.name}: ${err?.stack ?? err}\n`);
    process.exitCode = 2;
  }
}

await main();
