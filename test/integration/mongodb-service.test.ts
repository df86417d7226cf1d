// The `mongodb` test server (FerretDB 1.24, see test/servers/launchers/mongodb.ts) speaks the MongoDB
// wire protocol: raw OP_MSG commands, without the `mongodb` driver.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { opMsg, type BsonDocument } from '../servers/launchers/mongodb.ts';
import { findMongo } from '../support/servers.ts';

const mongo = await findMongo();
const url = new URL('skip' in mongo ? 'mongodb://127.0.0.1:27018/' : mongo.url);
const host = url.hostname;
const port = Number(url.port || 27017);
const db = 'berth_test';
const collection = `service_${process.pid}_${Date.now()}`;

const command = (doc: BsonDocument) => opMsg(host, port, doc, 5000);

describe(
  'mongodb test server (MongoDB wire protocol)',
  { skip: 'skip' in mongo ? mongo.skip : false },
  () => {
    after(async () => {
      await command({ drop: collection, $db: db }).catch(() => undefined);
    });

    it('answers ping with ok: 1', async () => {
      const reply = await command({ ping: 1, $db: 'admin' });
      assert.equal(reply['ok'], 1);
    });

    it('inserts a document and finds it again', async () => {
      const inserted = await command({
        insert: collection,
        documents: [{ _id: 'doc-1', name: 'berth', count: 3, tags: ['a', 'b'], nested: { ok: true } }],
        $db: db,
      });
      assert.equal(inserted['ok'], 1);
      assert.equal(inserted['n'], 1);

      const found = await command({ find: collection, filter: { _id: 'doc-1' }, $db: db });
      assert.equal(found['ok'], 1);
      const cursor = found['cursor'] as BsonDocument;
      assert.equal(cursor['ns'], `${db}.${collection}`);
      assert.deepEqual(cursor['firstBatch'], [
        { _id: 'doc-1', name: 'berth', count: 3, tags: ['a', 'b'], nested: { ok: true } },
      ]);
    });

    it('reports a duplicate key as a write error, not ok: 0', async () => {
      const reply = await command({ insert: collection, documents: [{ _id: 'doc-1' }], $db: db });
      assert.equal(reply['ok'], 1);
      assert.equal(reply['n'], 0);
      const errors = reply['writeErrors'] as BsonDocument[];
      assert.equal(errors[0]?.['code'], 11000);
    });
  },
);
