// A kubelet-side gRPC client built only from the UPSTREAM Kubernetes .proto files in $SECUREDRA_UPSTREAM_PROTOS (see ../UPSTREAM-PROTOS.md)
// (never from the project's protos/dra), loaded at run time by @grpc/proto-loader and spoken by @grpc/grpc-js,
// a gRPC implementation independent of the plugin's (Kestrel / Grpc.AspNetCore).
//
// It does what a kubelet does with a DRA plugin: GetInfo on the registration socket, NotifyRegistrationStatus,
// then Prepare/Unprepare on the advertised endpoint (v1 and v1beta1) and the first NodeWatchResources message.
// Every call sends `:authority: localhost`, as the kubelet's grpc-go clients do on Unix sockets.
//
// usage: node kubelet-client.mjs <request.json>
//   request: {"registrationSocket": "...", "claims": [{"namespace","name","uid"}], "timeoutMs": 5000}
// prints one JSON object on stdout (the C# test asserts on it); exit code 0 unless the client itself broke.
import {createRequire} from 'node:module';
import {readFileSync, writeFileSync, mkdtempSync, mkdirSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.SECUREDRA_TOOLS_DIR || path.resolve(here, '../../../.tools');
const requireFromTools = createRequire(path.join(toolsDir, 'package.json'));
let grpc, protoLoader;
try {
  grpc = requireFromTools('@grpc/grpc-js');
  protoLoader = requireFromTools('@grpc/proto-loader');
} catch (e) {
  console.error(`@grpc/grpc-js or @grpc/proto-loader missing under ${toolsDir}/node_modules: run .ci/run (install_node_tools installs them). ${e.message}`);
  process.exit(3);
}

// The upstream files are not committed (third-party code stays out of this repository): the test passes
// their directory in SECUREDRA_UPSTREAM_PROTOS; see ../UPSTREAM-PROTOS.md for where to get them.
const upstreamRoot = process.env.SECUREDRA_UPSTREAM_PROTOS;
if (!upstreamRoot) {
  console.error('SECUREDRA_UPSTREAM_PROTOS is not set: point it at a directory with the upstream kubelet protos (see UPSTREAM-PROTOS.md)');
  process.exit(4);
}
const PROTOS = [
  'pluginregistration/v1/api.proto',
  'dra/v1/api.proto',
  'dra/v1beta1/api.proto',
  'dra-health/v1alpha1/api.proto',
];

// Preprocessing, documented in ../UPSTREAM-PROTOS.md: older upstream revisions import gogoproto
// (`github.com/gogo/protobuf/gogoproto/gogo.proto`), which only steers Go code generation. If a file does,
// a copy with ONLY the gogo import, the file-level `option (gogoproto.*)` lines and the field-level
// `[(gogoproto.*) = ...]` options removed is loaded instead. Names, numbers, types and packages are untouched;
// the result reports which files needed it. The vendored revisions need none.
function preprocess(stagingDir) {
  const preprocessed = [];
  const files = PROTOS.map(rel => {
    const text = readFileSync(path.join(upstreamRoot, rel), 'utf8');
    if (!text.includes('gogoproto')) return path.join(upstreamRoot, rel);
    const stripped = text
      .replace(/^\s*import\s+"github\.com\/gogo\/protobuf\/gogoproto\/gogo\.proto";\s*$/m, '')
      .replace(/^\s*option\s+\(gogoproto\.[A-Za-z_]+\)\s*=\s*[^;]+;\s*$/gm, '')
      .replace(/\s*\[\s*\(gogoproto\.[A-Za-z_]+\)\s*=\s*[^\]]+\]/g, '');
    if (stripped.includes('gogoproto')) throw new Error(`${rel}: a gogoproto use the preprocessing does not know`);
    const out = path.join(stagingDir, rel);
    mkdirSync(path.dirname(out), {recursive: true});
    writeFileSync(out, stripped);
    preprocessed.push(rel);
    return out;
  });
  return {files, preprocessed};
}

const request = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const timeoutMs = request.timeoutMs ?? 5000;
const staging = mkdtempSync(path.join(os.tmpdir(), 'upstream-protos-'));
const result = {grpcJsVersion: requireFromTools('@grpc/grpc-js/package.json').version, calls: {}};

const options = {
  // The kubelet's grpc-go clients send `localhost` (WithAuthority on the registration dial; grpc.NewClient
  // default for "unix:" targets on the DRA dial). Without this grpc-js would send the socket path.
  'grpc.default_authority': 'localhost',
};

function loadPackage() {
  const {files, preprocessed} = preprocess(staging);
  result.preprocessed = preprocessed;
  const definition = protoLoader.loadSync(files, {keepCase: true, longs: String, enums: String, defaults: true, oneofs: true});
  // Service definitions are the entries without a descriptor `format`; their methods carry the wire path.
  result.methods = Object.values(definition)
    .filter(v => !v.format)
    .flatMap(service => Object.values(service).map(method => method.path))
    .sort();
  return grpc.loadPackageDefinition(definition);
}

function deadline() {
  return new Date(Date.now() + timeoutMs);
}

function unary(client, method, message) {
  return new Promise(resolve => {
    client[method](message, {deadline: deadline()}, (err, response) => {
      if (err) resolve({grpcError: {code: err.code, details: err.details}});
      else resolve({response});
    });
  });
}

function firstStreamMessage(client, method, message) {
  return new Promise(resolve => {
    const call = client[method](message, {deadline: deadline()});
    let done = false;
    const finish = value => {
      if (done) return;
      done = true;
      call.cancel();
      resolve(value);
    };
    call.on('data', response => finish({response}));
    call.on('error', err => finish({grpcError: {code: err.code, details: err.details}}));
    call.on('end', () => finish({grpcError: {code: -1, details: 'stream ended before the first message'}}));
  });
}

async function main() {
  const pkg = loadPackage();
  const registration = new pkg.pluginregistration.Registration(`unix://${request.registrationSocket}`, grpc.credentials.createInsecure(), options);
  const info = await unary(registration, 'GetInfo', {});
  result.calls.getInfo = info;
  result.calls.notify = await unary(registration, 'NotifyRegistrationStatus', {plugin_registered: true, error: ''});
  registration.close();
  if (!info.response) return;

  const endpoint = `unix://${info.response.endpoint}`;
  const claims = request.claims;
  const dra = pkg.k8s.io.kubelet.pkg.apis.dra;
  for (const version of ['v1', 'v1beta1']) {
    const client = new dra[version].DRAPlugin(endpoint, grpc.credentials.createInsecure(), options);
    result.calls[`${version}.prepare`] = await unary(client, 'NodePrepareResources', {claims});
    result.calls[`${version}.unprepare`] = await unary(client, 'NodeUnprepareResources', {claims});
    client.close();
  }

  const health = new pkg.v1alpha1.DRAResourceHealth(endpoint, grpc.credentials.createInsecure(), options);
  result.calls.watchHealth = await firstStreamMessage(health, 'NodeWatchResources', {});
  health.close();
}

try {
  await main();
} catch (e) {
  result.clientError = String(e && e.stack || e);
} finally {
  rmSync(staging, {recursive: true, force: true});
}
process.stdout.write(JSON.stringify(result) + '\n');
