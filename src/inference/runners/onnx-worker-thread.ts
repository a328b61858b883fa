// Entry point of one OnnxWorkerModel worker thread: owns one ONNX Runtime session, runs one
// call at a time (session.run blocks this thread, not the pipeline's event loop).
import { parentPort, workerData } from 'node:worker_threads';
import { OnnxModel } from '../onnx-model.js';
import {
  errorToWire,
  fromWire,
  toWire,
  type FromWorker,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  try {
    port.postMessage(msg, transfer);
  } catch {
    // ONNX Runtime may hand back buffers that cannot be moved; copy them instead.
    port.postMessage(msg);
  }
}

async function start(): Promise<void> {
  let model: OnnxModel;
  try {
    model = await OnnxModel.load(init.source, init.options);
  } catch (err) {
    send({ type: 'load-error', error: errorToWire(err) });
    port.close();
    return;
  }
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'close') {
      void model.close().then(() => {
        send({ type: 'closed' });
        port.close();
      });
      return;
    }
    model.run(fromWire(msg.inputs)).then(
      (out) => {
        const { wire, transfer } = toWire(out, true);
        send({ type: 'result', id: msg.id, outputs: wire }, transfer);
      },
      (err: unknown) => send({ type: 'error', id: msg.id, error: errorToWire(err) }),
    );
  });
  send({ type: 'ready', metadata: model.metadata });
}

void start();
