// The MQTT ingest holds PUBACKs at MQTT.js's private `_sendPacket` (no public API delays a
// PUBACK without stalling the next message): an MQTT.js without it is refused with a clear
// error, before any connection is awaited, instead of a TypeError.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MqttClient } from 'mqtt';
import { mqttIngest } from '../../src/connectors/mqtt-ingest.js';
import { Log } from '../../src/log/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-mqtt-client-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('mqttIngest and MQTT.js', () => {
  it('the installed MQTT.js has the _sendPacket the ingest relies on', () => {
    assert.equal(
      typeof (MqttClient.prototype as unknown as { _sendPacket?: unknown })._sendPacket,
      'function',
    );
  });

  it('refuses an MQTT.js without _sendPacket with SLUICE_SOURCE_CLIENT_UNSUPPORTED', async () => {
    const proto = MqttClient.prototype as unknown as { _sendPacket?: unknown };
    const original = proto._sendPacket;
    delete proto._sendPacket;
    const log = Log.open(join(tmp, 'log'));
    try {
      await assert.rejects(
        // Port 9 (discard): nothing is awaited from it, the check comes first.
        mqttIngest({ url: 'mqtt://127.0.0.1:9', filter: 'x/#', log, to: 'readings', connectTimeoutMs: 500 }),
        { code: 'SLUICE_SOURCE_CLIENT_UNSUPPORTED', message: /_sendPacket.*mqtt 5\.x/ },
      );
    } finally {
      proto._sendPacket = original;
      log.close();
    }
  });
});
