import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestJson } from '../../src/inference/runners/http-json.js';

test("a model server URL's password never reaches the error message (fetch quotes the URL too)", async () => {
  const pw = 'Pa55-w0rd';
  await assert.rejects(requestJson({ method: 'GET', url: `http://u:${pw}@127.0.0.1:1/v2` }), (e: Error) => {
    assert.match(e.message, /model server at http:\/\/\*\*\*@127\.0\.0\.1:1\/v2/);
    assert.ok(!e.message.includes(pw), e.message);
    return true;
  });
});
