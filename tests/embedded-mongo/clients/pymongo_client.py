"""A MongoDB client nobody here wrote: Debian's python3-pymongo against the embedded store.

Usage: pymongo_client.py URI DB. Runs the operations an application makes and prints one JSON
line of what came back (tests/embedded-mongo/pymongo.test.ts checks it, and reads what this
wrote through the Node driver).
"""
import datetime
import json
import sys
import uuid

from bson.decimal128 import Decimal128
from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, DeleteOne, InsertOne, MongoClient, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteError

uri, db_name = sys.argv[1], sys.argv[2]
client = MongoClient(uri, serverSelectionTimeoutMS=5000, uuidRepresentation='standard')
db = client[db_name]
people = db.people
out = {}

out['hello'] = {k: client.admin.command('hello').get(k) for k in ('isWritablePrimary', 'maxWireVersion')}
people.insert_many([{'_id': i, 'n': i, 'group': i % 3, 'name': 'Đại biểu %d' % i} for i in range(100)])
out['inserted'] = people.count_documents({})
out['page'] = [d['_id'] for d in people.find({'n': {'$gte': 50}}).sort('n', DESCENDING).skip(5).limit(10).batch_size(3)]
out['all_in_batches_of_7'] = len(list(people.find({}, batch_size=7)))
out['projection'] = people.find_one({'_id': 7}, {'name': 1, '_id': 0})
out['groups'] = list(people.aggregate([{'$group': {'_id': '$group', 'count': {'$sum': 1}, 'sum': {'$sum': '$n'}}}, {'$sort': {'_id': 1}}], batchSize=1))
out['distinct'] = sorted(people.distinct('group', {'n': {'$lt': 10}}))
out['regex_vi'] = people.count_documents({'name': {'$regex': '^đại biểu 1', '$options': 'i'}})

updated = people.update_many({'group': 0}, {'$inc': {'n': 1000}, '$set': {'flag': True}})
out['update_many'] = {'matched': updated.matched_count, 'modified': updated.modified_count}
out['find_one_and_update'] = people.find_one_and_update({'_id': 1}, {'$push': {'tags': 'x'}}, return_document=ReturnDocument.AFTER, projection={'_id': 0, 'tags': 1})
upserted = people.update_one({'_id': 'new'}, {'$setOnInsert': {'n': -1}}, upsert=True)
out['upserted_id'] = upserted.upserted_id

result = people.bulk_write([InsertOne({'_id': 500}), UpdateOne({'_id': 500}, {'$set': {'n': 500}}), DeleteOne({'_id': 2})])
out['bulk'] = {'inserted': result.inserted_count, 'modified': result.modified_count, 'deleted': result.deleted_count}

try:
    people.insert_one({'_id': 3})
except DuplicateKeyError as error:
    out['duplicate'] = {'code': error.code, 'keyValue': error.details.get('keyValue')}
try:
    people.insert_many([{'_id': 600}, {'_id': 3}, {'_id': 601}], ordered=False)
except BulkWriteError as error:
    out['unordered'] = {'inserted': error.details['nInserted'], 'failed_at': [e['index'] for e in error.details['writeErrors']]}

people.create_index([('group', ASCENDING), ('n', DESCENDING)], name='group_n')
people.create_index('name', unique=True, partialFilterExpression={'name': {'$type': 'string'}})
out['indexes'] = sorted(index['name'] for index in people.list_indexes())
out['explain_index'] = json.dumps(people.find({'group': 1}).explain()['queryPlanner']['winningPlan'], default=str).count('group_n') > 0

values = db['values']
stamp = datetime.datetime(2021, 12, 29, 7, 0, 0, 123000)
ident = uuid.UUID('12345678-1234-5678-1234-567812345678')
values.insert_one({'_id': 'kinds', 'long': Int64(2 ** 53 + 1), 'decimal': Decimal128('1234.5678'), 'date': stamp, 'uuid': ident, 'bytes': b'\x00\x01', 'nested': {'a': [1, {'b': None}]}})
back = values.find_one({'_id': 'kinds'})
out['kinds_round_trip'] = back['long'] == Int64(2 ** 53 + 1) and isinstance(back['long'], Int64) and back['decimal'] == Decimal128('1234.5678') and back['date'] == stamp and back['uuid'] == ident and back['bytes'] == b'\x00\x01' and back['nested'] == {'a': [1, {'b': None}]}

db.create_collection('checked', validator={'$jsonSchema': {'bsonType': 'object', 'required': ['name']}})
try:
    db.checked.insert_one({'_id': 1})
except WriteError as error:
    out['validation'] = {'code': error.code, 'missing': error.details['errInfo']['details']['schemaRulesNotSatisfied'][0].get('missingProperties')}
try:
    list(people.find({'$bogus': 1}))
except OperationFailure as error:
    out['bad_operator'] = error.code

out['collections'] = sorted(db.list_collection_names())
db.drop_collection('checked')
out['after_drop'] = sorted(db.list_collection_names())
print(json.dumps(out, default=str))
