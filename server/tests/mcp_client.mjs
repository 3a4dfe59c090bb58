// A real MCP client for server/tests/mcp_clients.rs: the TypeScript SDK (npm
// @modelcontextprotocol/sdk 1.32.2, which negotiates 2025-11-25) against `mcp-train mcp` (stdio)
// or `/mcp` on `mcp-train serve` (streamable HTTP). It calls every listed tool at least once with
// valid arguments; the SDK checks each structuredContent against the tool's outputSchema (Ajv)
// and throws on a mismatch, so a run that ends is a run whose every result matched its schema.
//
//   node mcp_client.mjs --npm PREFIX (--stdio BIN --data-dir DIR | --url URL --token T)
//                       --export PATH
//
// PREFIX is the npm prefix holding the SDK (scripts/tools.sh ensure_mcp_clients). Prints one JSON
// object: the protocol version, the listed tools, the tools called (and how often), progress
// notifications received, and the resources and prompts seen.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    npm: { type: 'string' },
    stdio: { type: 'string' },
    'data-dir': { type: 'string' },
    url: { type: 'string' },
    token: { type: 'string' },
    export: { type: 'string' },
  },
});
const require = createRequire(join(args.npm, 'package.json'));
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { StdioClientTransport, getDefaultEnvironment } = require('@modelcontextprotocol/sdk/client/stdio.js');

// Distinct model versions (the UTC second a model was created): 2026-06-01T00:00:00Z, +1 min.
const CREATED_AT_MICROS = 1_780_272_000_000_000;

const transport = args.stdio
  ? new StdioClientTransport({
      command: args.stdio,
      args: ['mcp', '--data-dir', args['data-dir']],
      env: getDefaultEnvironment(),
      stderr: 'inherit',
    })
  : new StreamableHTTPClientTransport(new URL(args.url), {
      requestInit: { headers: { Authorization: `Bearer ${args.token}` } },
    });
const client = new Client({ name: 'mcp-train-test-ts', version: '1.0.0' });
await client.connect(transport);

const called = {};
const progress = [];
// Calls a tool that must succeed (the SDK has validated its structured result by then).
async function call(name, argsOfCall, options = {}) {
  const result = await client.callTool({ name, arguments: argsOfCall }, undefined, {
    timeout: 300_000,
    ...options,
  });
  if (result.isError) {
    const text = result.content.map((c) => c.text ?? '').join(' ');
    throw new Error(`${name}(${JSON.stringify(argsOfCall)}) failed: ${text}`);
  }
  if (!result.structuredContent) throw new Error(`${name} returned no structuredContent`);
  called[name] = (called[name] ?? 0) + 1;
  return result.structuredContent;
}

// listTools also caches the output-schema validators callTool uses.
const { tools } = await client.listTools();
const listed = tools.map((t) => t.name);

const onprogress = (p) => progress.push(p);
await call('list_datasets', {});
const generated = await call('generate_dataset', { log_type: 'wifi', seed: 7, records: 400 });
const dataset = await call('register_dataset', { path: args.export });
await call('validate_dataset', { dataset: dataset.id });
await call('list_datasets', { limit: 10 });
const job1 = await call(
  'start_training',
  { dataset: dataset.id, seed: 1, n_estimators: 50, created_at_micros: CREATED_AT_MICROS, wait: true },
  { onprogress, resetTimeoutOnProgress: true },
);
let job2 = await call('start_training', {
  dataset: generated.id,
  seed: 2,
  n_estimators: 50,
  created_at_micros: CREATED_AT_MICROS + 60_000_000,
});
for (let i = 0; !['completed', 'failed', 'cancelled'].includes(job2.status); i++) {
  if (i > 600) throw new Error(`job ${job2.id} never finished: ${JSON.stringify(job2)}`);
  await new Promise((r) => setTimeout(r, 100));
  job2 = await call('get_training_job', { job: job2.id });
}
if (job1.status !== 'completed' || job2.status !== 'completed') {
  throw new Error(`training failed: ${JSON.stringify([job1, job2])}`);
}
await call('list_training_jobs', {});
// A finished job cannot be cancelled: an in-band conflict the model can read.
const refused = await client.callTool({ name: 'cancel_training_job', arguments: { job: job2.id } });
if (!refused.isError || !refused.content[0].text.startsWith('conflict:')) {
  throw new Error(`cancelling a finished job: ${JSON.stringify(refused)}`);
}
// A job cancelled at once (queued or running) ends cancelled. A larger set trains for about a
// second, so the cancel arrives first; should the job still win the race, the answer is the
// same conflict and the test tries again.
const big = await call('generate_dataset', { log_type: 'wifi', seed: 9, records: 20000 });
for (let attempt = 1; !called.cancel_training_job; attempt++) {
  const job = await call('start_training', {
    dataset: big.id,
    seed: 3,
    n_estimators: 500,
    created_at_micros: CREATED_AT_MICROS + attempt * 120_000_000,
  });
  const cancel = await client.callTool({ name: 'cancel_training_job', arguments: { job: job.id } });
  if (!cancel.isError) {
    if (!['cancelled', 'queued', 'running'].includes(cancel.structuredContent.status)) {
      throw new Error(`cancel_training_job answered ${JSON.stringify(cancel.structuredContent)}`);
    }
    called.cancel_training_job = 1;
  } else if (attempt === 3 || !cancel.content[0].text.includes('has already finished')) {
    throw new Error(`cancel_training_job failed: ${JSON.stringify(cancel)}`);
  }
}
const [v1, v2] = [job1.model.version, job2.model.version];
await call('list_models', {});
await call('get_model', { version: v1 });
await call('compare_models', { versions: [v1, v2] });
await call('evaluate_model', { version: v1, dataset: dataset.id });
await call('deploy_model', { version: v2 });
await call('deploy_model', { version: v1 });
await call('rollback_model', { log_type: 'wifi' });
await call('deploy_model', { version: v1 });
await call('build_package', { version: v1 });
await call('verify_package', { version: v1 });
const detected = await call('detect_anomalies', { dataset: dataset.id, limit: 5 });
const anomalies = await call('list_anomalies', { limit: 10 });
if (anomalies.items.length === 0) throw new Error(`no anomaly stored: ${JSON.stringify(detected)}`);
const id = anomalies.items[0].id;
await call('list_anomalies', { status: 'new', log_type: 'wifi', limit: 1 });
await call('get_anomaly', { id });
await call('set_anomaly_status', { id, status: 'acknowledged', note: 'looked at by the TypeScript client' });
await call('explain_anomaly', { id });
await call('search_knowledge', { query: 'PSK mismatch' });
const exportJob = await call('start_anomaly_export', { format: 'csv' });
await call('get_anomaly_export', { export: exportJob.id, wait_seconds: 30 });

// Resources and prompts: listed, and one of each read.
const resources = (await client.listResources()).resources.map((r) => r.uri);
const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
const card = await client.readResource({ uri: `mcp-train://models/${v1}` });
const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
// Prompt arguments are strings (the protocol says so).
const prompt = await client.getPrompt({ name: 'investigate_anomaly', arguments: { id: String(id) } });

const notCalled = listed.filter((name) => !(name in called));
console.log(
  JSON.stringify({
    protocol_version: transport.protocolVersion ?? null,
    server: client.getServerVersion(),
    listed,
    called,
    not_called: notCalled,
    progress,
    resources,
    templates,
    model_card_contents: card.contents.length,
    prompts,
    prompt_messages: prompt.messages.length,
  }),
);
await client.close();
