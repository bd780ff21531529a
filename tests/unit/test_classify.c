/*
 * Unit tests for classify: one test per operation of spec tables 4.1,
 * 4.2 and 4.3 (action and resources), every condition key of spec 6,
 * and every refusal. Requests are real HTTP heads parsed by http1, with
 * configurations loaded by config_load_buffer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classify.h"

#define NOW ((time_t)1795485900)	/* 20261124T020500Z */
#define AMZ_DATE "20261124T020500Z"
#define SIG "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define KEY "AKIAIOSFODNN7EXAMPLE"	/* principals[0], account 4444... */
#define KEY2 "AKIAI44QH8DHBEXAMPLE"	/* not in principals */
#define ACCT "444455556666"
#define T "arn:aws:dynamodb:us-east-1:" ACCT ":table/"
#define T1 "arn:aws:dynamodb:us-east-1:111122223333:table/"
#define DENIED "com.amazon.coral.service#AccessDeniedException"

static const char config_yaml[] =
    "region: us-east-1\n"
    "account: \"111122223333\"\n"
    "listeners:\n"
    "  - {address: \"127.0.0.1:3128\", mode: connect}\n"
    "endpoints:\n"
    "  - {name: ddb, service: dynamodb,"
    " hosts: [dynamodb.us-east-1.amazonaws.com],"
    " source_vpce: vpce-0abc1234def567890}\n"
    "  - {name: streams, service: streams,"
    " hosts: [streams.dynamodb.us-east-1.amazonaws.com]}\n"
    "  - {name: dax, service: dax, hosts: [dax.us-east-1.amazonaws.com]}\n"
    "principals:\n"
    "  - access_key_id: " KEY "\n"
    "    arn: arn:aws:iam::" ACCT ":role/orders-app\n"
    "    userid: AROAEXAMPLEROLEID0001:orders-app\n"
    "  - {access_key_id: AKIAIOSFODNN7EXAMPL3, arn: 'arn:aws:iam::1:user/x'}\n"
    "tables:\n"
    "  - arn: " T "Orders\n"
    "    partition_key: customerId\n"
    "    sort_key: orderId\n"
    "  - {arn: '" T "Customers', partition_key: id}\n"
    "  - {arn: '" T "Nums', partition_key: n}\n"
    "  - {arn: '" T1 "Orders', partition_key: customerId}\n";

/* No account anywhere: only an unmapped key's requests lack one. */
static const char config_no_account_yaml[] =
    "region: us-east-1\n"
    "listeners:\n"
    "  - {address: \"127.0.0.1:3128\", mode: connect}\n"
    "endpoints:\n"
    "  - {name: ddb, service: dynamodb,"
    " hosts: [dynamodb.us-east-1.amazonaws.com]}\n"
    "  - {name: dax, service: dax, hosts: [dax.us-east-1.amazonaws.com]}\n"
    "  - {name: daxc, service: dax-cluster,"
    " hosts: [c.dax-clusters.us-east-1.amazonaws.com]}\n";

static struct config *cfg, *cfg_no_account;

/* ---- building requests ------------------------------------------------ */

struct req {
	enum endpoint_service service;
	const struct config *cfg;
	const char *target;	/* full X-Amz-Target value; NULL: none */
	const char *key;	/* access key id */
	const char *content_type;
	const char *date;	/* X-Amz-Date; NULL: none */
	const char *auth;	/* full Authorization value; NULL: built */
	const char *extra;	/* more header lines, each ending in \r\n */
	const char *body;
	size_t body_len;	/* 0: strlen(body) */
	const char *path;	/* request-target */
	const struct sockaddr *client;
	bool secure;
};

static const char *
prefix_of(enum endpoint_service s)
{
	return s == SERVICE_STREAMS ? "DynamoDBStreams_20120810" :
	    s == SERVICE_DAX ? "AmazonDAXV3" : "DynamoDB_20120810";
}

static char head_buf[8192];
static char target_buf[256];
static struct http1_request parsed;
static struct classify_refusal why;

static enum classify_status
run(const struct req *r, struct classify_result *out)
{
	struct classify_input in;
	enum http1_error err;
	size_t blen = r->body_len ? r->body_len : strlen(r->body);
	char auth[512];
	const char *svc = r->service == SERVICE_DAX ? "dax" : "dynamodb";
	int n;

	snprintf(auth, sizeof(auth), "AWS4-HMAC-SHA256 Credential=%s/20261124/"
	    "us-east-1/%s/aws4_request, SignedHeaders=content-type;host;"
	    "x-amz-date;x-amz-target, Signature=" SIG, r->key ? r->key : KEY,
	    svc);
	n = snprintf(head_buf, sizeof(head_buf),
	    "POST %s HTTP/1.1\r\n"
	    "Host: example.amazonaws.com\r\n"
	    "%s%s%s"
	    "Content-Type: %s\r\n"
	    "%s%s%s"
	    "Authorization: %s\r\n"
	    "%s"
	    "Content-Length: %zu\r\n\r\n",
	    r->path ? r->path : "/",
	    r->target ? "X-Amz-Target: " : "", r->target ? r->target : "",
	    r->target ? "\r\n" : "",
	    r->content_type ? r->content_type : r->service == SERVICE_DAX ?
	    "application/x-amz-json-1.1" : "application/x-amz-json-1.0",
	    r->date ? "X-Amz-Date: " : "", r->date ? r->date : "",
	    r->date ? "\r\n" : "",
	    r->auth ? r->auth : auth, r->extra ? r->extra : "", blen);
	assert_true(n > 0 && (size_t)n < sizeof(head_buf));
	if (http1_parse_request(head_buf, (size_t)n, sizeof(head_buf), &parsed,
	    &err) != HTTP1_OK)
		fail_msg("head does not parse: %s\n%s", http1_error_str(err),
		    head_buf);
	memset(&in, 0, sizeof(in));
	in.service = r->service;
	in.cfg = r->cfg ? r->cfg : cfg;
	in.endpoint = &in.cfg->endpoints[0];
	in.client = r->client;
	in.secure_transport = r->secure;
	in.now = NOW;
	in.headers = parsed.headers;
	in.nheaders = parsed.nheaders;
	in.body = r->body;
	in.body_len = blen;
	in.target = parsed.target;
	in.target_len = parsed.target_len;
	return classify_request(&in, out, &why);
}

/* A standard signed request for op with body. */
static struct req
std_req(enum endpoint_service s, const char *op, const char *body)
{
	struct req r = { .service = s, .date = AMZ_DATE, .body = body,
	    .secure = true };

	snprintf(target_buf, sizeof(target_buf), "%s.%s", prefix_of(s), op);
	r.target = target_buf;
	return r;
}

static void
ok(const struct req *r, struct classify_result *out)
{
	if (run(r, out) != CLASSIFY_OK)
		fail_msg("refused: %s: %s\nbody: %s", why.type, why.message,
		    r->body);
}

static void
ddb_ok(const char *op, const char *body, struct classify_result *out)
{
	struct req r = std_req(SERVICE_DYNAMODB, op, body);

	ok(&r, out);
}

/* The request is refused with type and a message containing part. */
static void
refused(const struct req *r, const char *type, const char *part)
{
	struct classify_result out;

	if (run(r, &out) == CLASSIFY_OK) {
		classify_result_free(&out);
		fail_msg("accepted: %s", r->body);
	}
	if (strcmp(why.type, type) != 0 || strstr(why.message, part) == NULL)
		fail_msg("refusal \"%s\": \"%s\"\nwant \"%s\": \"...%s...\"\n"
		    "body: %s", why.type, why.message, type, part, r->body);
	assert_null(out.arena);
	assert_int_equal(out.nauthz, 0);
}

static void
ddb_denied(const char *op, const char *body, const char *part)
{
	struct req r = std_req(SERVICE_DYNAMODB, op, body);

	refused(&r, DENIED, part);
}

/* ---- looking at results ------------------------------------------------- */

static const struct policy_key *
find_key(const struct policy_key *keys, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

/* The values of a key joined with "|", or "(absent)". */
static const char *
values(const struct policy_key *keys, size_t n, const char *name)
{
	static char buf[2048];
	const struct policy_key *k = find_key(keys, n, name);
	size_t i, o = 0;

	if (k == NULL)
		return "(absent)";
	buf[0] = '\0';
	for (i = 0; i < k->nvalues && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
		    i > 0 ? "|" : "", k->values[i]);
	return buf;
}

static const char *
akey(const struct classify_result *out, size_t i, const char *name)
{
	assert_true(i < out->nauthz);
	return values(out->authz[i].keys, out->authz[i].nkeys, name);
}

static const char *
rkey(const struct classify_result *out, const char *name)
{
	return values(out->keys, out->nkeys, name);
}

static bool
is_unknown(const struct classify_result *out, size_t i, const char *name)
{
	size_t k;

	for (k = 0; k < out->authz[i].nunknown_keys; k++) {
		if (strcmp(out->authz[i].unknown_keys[k], name) == 0)
			return true;
	}
	return false;
}

/* "action resource" lines, one per pair, in order. */
static void
assert_pairs(const struct classify_result *out, const char *want)
{
	char got[4096];
	size_t i, o = 0;

	got[0] = '\0';
	for (i = 0; i < out->nauthz && o < sizeof(got); i++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s %s",
		    i > 0 ? "\n" : "", out->authz[i].action,
		    out->authz[i].resource);
	if (strcmp(got, want) != 0)
		fail_msg("pairs:\n%s\nwant:\n%s", got, want);
}

/* ---- one test per operation ---------------------------------------------- */

struct op_case {
	enum endpoint_service service;
	const char *op;
	const char *body;
	const char *pairs;
};

#define GKEY \
	"\"Key\":{\"customerId\":{\"S\":\"c1\"},\"orderId\":{\"S\":\"o1\"}}"
#define BACKUP T "Orders/backup/01489602797149-73d8d5bc"
#define EXPORT T "Orders/export/01234567890123-a1b2c3d4"
#define IMPORT T "Imported/import/01658528578619-c4d4e311"
#define STREAM T "Orders/stream/2015-05-20T20:51:10.252"
#define CACHE "arn:aws:dax:us-east-1:" ACCT ":cache/"

static const struct op_case op_cases[] = {
	/* 4.1 DynamoDB */
	{ SERVICE_DYNAMODB, "BatchExecuteStatement",
	  "{\"Statements\":[{\"Statement\":\"SELECT * FROM \\\"Orders\\\" WHERE "
	  "customerId = 'c1'\"},{\"Statement\":\"select a, b from Customers\"}]}",
	  "dynamodb:PartiQLSelect " T "Orders\n"
	  "dynamodb:PartiQLSelect " T "Customers" },
	{ SERVICE_DYNAMODB, "BatchGetItem",
	  "{\"RequestItems\":{\"Orders\":{\"Keys\":[{\"customerId\":{\"S\":\"c1\"},"
	  "\"orderId\":{\"S\":\"o1\"}}]}}}",
	  "dynamodb:BatchGetItem " T "Orders" },
	{ SERVICE_DYNAMODB, "BatchWriteItem",
	  "{\"RequestItems\":{\"Orders\":[{\"PutRequest\":{\"Item\":{\"customerId\":"
	  "{\"S\":\"c1\"},\"orderId\":{\"S\":\"o1\"}}}}]}}",
	  "dynamodb:BatchWriteItem " T "Orders" },
	{ SERVICE_DYNAMODB, "CreateBackup",
	  "{\"TableName\":\"Orders\",\"BackupName\":\"b1\"}",
	  "dynamodb:CreateBackup " T "Orders" },
	{ SERVICE_DYNAMODB, "CreateGlobalTable",
	  "{\"GlobalTableName\":\"Orders\",\"ReplicationGroup\":[{\"RegionName\":"
	  "\"us-east-1\"},{\"RegionName\":\"eu-west-1\"}]}",
	  "dynamodb:CreateGlobalTable arn:aws:dynamodb::" ACCT
	  ":global-table/Orders\n"
	  "dynamodb:CreateGlobalTable " T "Orders\n"
	  "dynamodb:CreateGlobalTable arn:aws:dynamodb:eu-west-1:" ACCT
	  ":table/Orders" },
	{ SERVICE_DYNAMODB, "CreateTable",
	  "{\"TableName\":\"NewTable\",\"KeySchema\":[{\"AttributeName\":\"k\","
	  "\"KeyType\":\"HASH\"}],\"AttributeDefinitions\":[{\"AttributeName\":"
	  "\"k\",\"AttributeType\":\"S\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}",
	  "dynamodb:CreateTable " T "NewTable" },
	{ SERVICE_DYNAMODB, "DeleteBackup", "{\"BackupArn\":\"" BACKUP "\"}",
	  "dynamodb:DeleteBackup " BACKUP },
	{ SERVICE_DYNAMODB, "DeleteItem", "{\"TableName\":\"Orders\"," GKEY "}",
	  "dynamodb:DeleteItem " T "Orders" },
	{ SERVICE_DYNAMODB, "DeleteResourcePolicy",
	  "{\"ResourceArn\":\"" T "Orders\"}",
	  "dynamodb:DeleteResourcePolicy " T "Orders" },
	{ SERVICE_DYNAMODB, "DeleteTable", "{\"TableName\":\"Orders\"}",
	  "dynamodb:DeleteTable " T "Orders" },
	{ SERVICE_DYNAMODB, "DescribeBackup", "{\"BackupArn\":\"" BACKUP "\"}",
	  "dynamodb:DescribeBackup " BACKUP },
	{ SERVICE_DYNAMODB, "DescribeContinuousBackups",
	  "{\"TableName\":\"Orders\"}",
	  "dynamodb:DescribeContinuousBackups " T "Orders" },
	{ SERVICE_DYNAMODB, "DescribeContributorInsights",
	  "{\"TableName\":\"Orders\",\"IndexName\":\"ByDate\"}",
	  "dynamodb:DescribeContributorInsights " T "Orders/index/ByDate" },
	{ SERVICE_DYNAMODB, "DescribeEndpoints", "{}",
	  "dynamodb:DescribeEndpoints *" },
	{ SERVICE_DYNAMODB, "DescribeExport", "{\"ExportArn\":\"" EXPORT "\"}",
	  "dynamodb:DescribeExport " EXPORT },
	{ SERVICE_DYNAMODB, "DescribeGlobalTable",
	  "{\"GlobalTableName\":\"Orders\"}",
	  "dynamodb:DescribeGlobalTable arn:aws:dynamodb::" ACCT
	  ":global-table/Orders" },
	{ SERVICE_DYNAMODB, "DescribeGlobalTableSettings",
	  "{\"GlobalTableName\":\"Orders\"}",
	  "dynamodb:DescribeGlobalTableSettings arn:aws:dynamodb::" ACCT
	  ":global-table/Orders" },
	{ SERVICE_DYNAMODB, "DescribeImport", "{\"ImportArn\":\"" IMPORT "\"}",
	  "dynamodb:DescribeImport " IMPORT },
	{ SERVICE_DYNAMODB, "DescribeKinesisStreamingDestination",
	  "{\"TableName\":\"Orders\"}",
	  "dynamodb:DescribeKinesisStreamingDestination " T "Orders" },
	{ SERVICE_DYNAMODB, "DescribeLimits", "{}", "dynamodb:DescribeLimits *" },
	{ SERVICE_DYNAMODB, "DescribeTable", "{\"TableName\":\"Orders\"}",
	  "dynamodb:DescribeTable " T "Orders" },
	{ SERVICE_DYNAMODB, "DescribeTableReplicaAutoScaling",
	  "{\"TableName\":\"Orders\"}",
	  "dynamodb:DescribeTableReplicaAutoScaling " T "Orders" },
	{ SERVICE_DYNAMODB, "DescribeTimeToLive", "{\"TableName\":\"Orders\"}",
	  "dynamodb:DescribeTimeToLive " T "Orders" },
	{ SERVICE_DYNAMODB, "DisableKinesisStreamingDestination",
	  "{\"TableName\":\"Orders\",\"StreamArn\":\"arn:aws:kinesis:us-east-1:"
	  ACCT ":stream/s\"}",
	  "dynamodb:DisableKinesisStreamingDestination " T "Orders" },
	{ SERVICE_DYNAMODB, "EnableKinesisStreamingDestination",
	  "{\"TableName\":\"Orders\",\"StreamArn\":\"arn:aws:kinesis:us-east-1:"
	  ACCT ":stream/s\"}",
	  "dynamodb:EnableKinesisStreamingDestination " T "Orders" },
	{ SERVICE_DYNAMODB, "ExecuteStatement",
	  "{\"Statement\":\"INSERT INTO \\\"Orders\\\" VALUE {'customerId': 'c1',"
	  " 'orderId': 'o1'}\"}",
	  "dynamodb:PartiQLInsert " T "Orders" },
	{ SERVICE_DYNAMODB, "ExecuteTransaction",
	  "{\"TransactStatements\":[{\"Statement\":\"UPDATE \\\"Orders\\\" SET "
	  "total = 5 WHERE customerId = 'c1' AND orderId = 'o1'\"},{\"Statement\":"
	  "\"EXISTS(SELECT * FROM \\\"Customers\\\" WHERE id = 'c1')\"},"
	  "{\"Statement\":\"DELETE FROM Nums WHERE n = 1\"}]}",
	  "dynamodb:PartiQLUpdate " T "Orders\n"
	  "dynamodb:PartiQLSelect " T "Customers\n"
	  "dynamodb:PartiQLDelete " T "Nums" },
	{ SERVICE_DYNAMODB, "ExportTableToPointInTime",
	  "{\"TableArn\":\"" T "Orders\",\"S3Bucket\":\"bucket\"}",
	  "dynamodb:ExportTableToPointInTime " T "Orders" },
	{ SERVICE_DYNAMODB, "GetItem", "{\"TableName\":\"Orders\"," GKEY "}",
	  "dynamodb:GetItem " T "Orders" },
	{ SERVICE_DYNAMODB, "GetResourcePolicy",
	  "{\"ResourceArn\":\"" STREAM "\"}",
	  "dynamodb:GetResourcePolicy " STREAM },
	{ SERVICE_DYNAMODB, "ImportTable",
	  "{\"S3BucketSource\":{\"S3Bucket\":\"b\"},\"InputFormat\":\"CSV\","
	  "\"TableCreationParameters\":{\"TableName\":\"Imported\","
	  "\"KeySchema\":[]}}",
	  "dynamodb:ImportTable " T "Imported" },
	{ SERVICE_DYNAMODB, "ListBackups", "{\"TableName\":\"Orders\"}",
	  "dynamodb:ListBackups *" },
	{ SERVICE_DYNAMODB, "ListContributorInsights", "{}",
	  "dynamodb:ListContributorInsights *" },
	{ SERVICE_DYNAMODB, "ListExports", "{\"TableArn\":\"" T "Orders\"}",
	  "dynamodb:ListExports " T "Orders" },
	{ SERVICE_DYNAMODB, "ListGlobalTables", "{\"RegionName\":\"us-east-1\"}",
	  "dynamodb:ListGlobalTables *" },
	{ SERVICE_DYNAMODB, "ListImports", "{}", "dynamodb:ListImports *" },
	{ SERVICE_DYNAMODB, "ListTables", "{\"Limit\":10}",
	  "dynamodb:ListTables *" },
	{ SERVICE_DYNAMODB, "ListTagsOfResource",
	  "{\"ResourceArn\":\"" T "Orders\"}",
	  "dynamodb:ListTagsOfResource " T "Orders" },
	{ SERVICE_DYNAMODB, "PutItem",
	  "{\"TableName\":\"Orders\",\"Item\":{\"customerId\":{\"S\":\"c1\"},"
	  "\"orderId\":{\"S\":\"o1\"},\"total\":{\"N\":\"5\"}}}",
	  "dynamodb:PutItem " T "Orders" },
	{ SERVICE_DYNAMODB, "PutResourcePolicy",
	  "{\"ResourceArn\":\"" STREAM "\",\"Policy\":\"{}\"}",
	  "dynamodb:PutResourcePolicy " STREAM },
	{ SERVICE_DYNAMODB, "Query",
	  "{\"TableName\":\"Orders\",\"IndexName\":\"ByDate\","
	  "\"KeyConditionExpression\":\"#d = :d\",\"ExpressionAttributeNames\":"
	  "{\"#d\":\"day\"},\"ExpressionAttributeValues\":{\":d\":{\"S\":\"x\"}}}",
	  "dynamodb:Query " T "Orders/index/ByDate" },
	{ SERVICE_DYNAMODB, "RestoreTableFromBackup",
	  "{\"TargetTableName\":\"Restored\",\"BackupArn\":\"" BACKUP "\"}",
	  "dynamodb:RestoreTableFromBackup " BACKUP "\n"
	  "dynamodb:RestoreTableFromBackup " T "Restored" },
	{ SERVICE_DYNAMODB, "RestoreTableToPointInTime",
	  "{\"SourceTableName\":\"Orders\",\"TargetTableName\":\"Orders2\","
	  "\"UseLatestRestorableTime\":true}",
	  "dynamodb:RestoreTableToPointInTime " T "Orders\n"
	  "dynamodb:RestoreTableToPointInTime " T "Orders2" },
	{ SERVICE_DYNAMODB, "Scan", "{\"TableName\":\"Orders\"}",
	  "dynamodb:Scan " T "Orders" },
	{ SERVICE_DYNAMODB, "SearchVectors",
	  "{\"TableName\":\"Orders\",\"IndexName\":\"Vec\",\"SearchVector\":"
	  "[{\"N\":\"0.5\"}],\"TopK\":3}",
	  "dynamodb:SearchVectors " T "Orders/index/Vec" },
	{ SERVICE_DYNAMODB, "TagResource",
	  "{\"ResourceArn\":\"" T "Orders\",\"Tags\":[{\"Key\":\"env\","
	  "\"Value\":\"prod\"}]}",
	  "dynamodb:TagResource " T "Orders" },
	{ SERVICE_DYNAMODB, "TransactGetItems",
	  "{\"TransactItems\":[{\"Get\":{\"TableName\":\"Orders\"," GKEY "}},"
	  "{\"Get\":{\"TableName\":\"Customers\",\"Key\":{\"id\":{\"S\":\"c1\"}}}}]}",
	  "dynamodb:GetItem " T "Orders\ndynamodb:GetItem " T "Customers" },
	{ SERVICE_DYNAMODB, "TransactWriteItems",
	  "{\"TransactItems\":[{\"Put\":{\"TableName\":\"Orders\",\"Item\":"
	  "{\"customerId\":{\"S\":\"c1\"},\"orderId\":{\"S\":\"o2\"}}}},"
	  "{\"Update\":{\"TableName\":\"Orders\"," GKEY ",\"UpdateExpression\":"
	  "\"SET total = :t\",\"ExpressionAttributeValues\":{\":t\":{\"N\":\"1\"}}}},"
	  "{\"Delete\":{\"TableName\":\"Customers\",\"Key\":{\"id\":{\"S\":\"c9\"}}}},"
	  "{\"ConditionCheck\":{\"TableName\":\"Nums\",\"Key\":{\"n\":{\"N\":\"7\"}},"
	  "\"ConditionExpression\":\"attribute_exists(n)\"}}]}",
	  "dynamodb:PutItem " T "Orders\n"
	  "dynamodb:UpdateItem " T "Orders\n"
	  "dynamodb:DeleteItem " T "Customers\n"
	  "dynamodb:ConditionCheckItem " T "Nums" },
	{ SERVICE_DYNAMODB, "UntagResource",
	  "{\"ResourceArn\":\"" T "Orders\",\"TagKeys\":[\"env\"]}",
	  "dynamodb:UntagResource " T "Orders" },
	{ SERVICE_DYNAMODB, "UpdateContinuousBackups",
	  "{\"TableName\":\"Orders\",\"PointInTimeRecoverySpecification\":"
	  "{\"PointInTimeRecoveryEnabled\":true}}",
	  "dynamodb:UpdateContinuousBackups " T "Orders" },
	{ SERVICE_DYNAMODB, "UpdateContributorInsights",
	  "{\"TableName\":\"Orders\",\"ContributorInsightsAction\":\"ENABLE\"}",
	  "dynamodb:UpdateContributorInsights " T "Orders" },
	{ SERVICE_DYNAMODB, "UpdateGlobalTable",
	  "{\"GlobalTableName\":\"Orders\",\"ReplicaUpdates\":[{\"Create\":"
	  "{\"RegionName\":\"eu-west-1\"}},{\"Delete\":{\"RegionName\":"
	  "\"ap-south-1\"}}]}",
	  "dynamodb:UpdateGlobalTable arn:aws:dynamodb::" ACCT
	  ":global-table/Orders\n"
	  "dynamodb:UpdateGlobalTable arn:aws:dynamodb:eu-west-1:" ACCT
	  ":table/Orders\n"
	  "dynamodb:UpdateGlobalTable arn:aws:dynamodb:ap-south-1:" ACCT
	  ":table/Orders" },
	{ SERVICE_DYNAMODB, "UpdateGlobalTableSettings",
	  "{\"GlobalTableName\":\"Orders\",\"ReplicaSettingsUpdate\":"
	  "[{\"RegionName\":\"eu-west-1\"}]}",
	  "dynamodb:UpdateGlobalTableSettings arn:aws:dynamodb::" ACCT
	  ":global-table/Orders\n"
	  "dynamodb:UpdateGlobalTableSettings arn:aws:dynamodb:eu-west-1:" ACCT
	  ":table/Orders" },
	{ SERVICE_DYNAMODB, "UpdateItem",
	  "{\"TableName\":\"Orders\"," GKEY ",\"UpdateExpression\":\"SET a = :a\","
	  "\"ExpressionAttributeValues\":{\":a\":{\"S\":\"x\"}}}",
	  "dynamodb:UpdateItem " T "Orders" },
	{ SERVICE_DYNAMODB, "UpdateKinesisStreamingDestination",
	  "{\"TableName\":\"Orders\",\"StreamArn\":\"arn:aws:kinesis:us-east-1:"
	  ACCT ":stream/s\"}",
	  "dynamodb:UpdateKinesisStreamingDestination " T "Orders" },
	{ SERVICE_DYNAMODB, "UpdateTable",
	  "{\"TableName\":\"Orders\",\"ReplicaUpdates\":[{\"Create\":"
	  "{\"RegionName\":\"eu-west-1\"}},{\"Delete\":{\"RegionName\":"
	  "\"ap-south-1\"}}]}",
	  "dynamodb:UpdateTable " T "Orders\n"
	  "dynamodb:CreateTableReplica arn:aws:dynamodb:eu-west-1:" ACCT
	  ":table/Orders\n"
	  "dynamodb:DeleteTableReplica arn:aws:dynamodb:ap-south-1:" ACCT
	  ":table/Orders" },
	{ SERVICE_DYNAMODB, "UpdateTableReplicaAutoScaling",
	  "{\"TableName\":\"Orders\"}",
	  "dynamodb:UpdateTableReplicaAutoScaling " T "Orders" },
	{ SERVICE_DYNAMODB, "UpdateTimeToLive",
	  "{\"TableName\":\"Orders\",\"TimeToLiveSpecification\":{\"Enabled\":"
	  "true,\"AttributeName\":\"ttl\"}}",
	  "dynamodb:UpdateTimeToLive " T "Orders" },

	/* 4.2 Streams */
	{ SERVICE_STREAMS, "DescribeStream", "{\"StreamArn\":\"" STREAM "\"}",
	  "dynamodb:DescribeStream " STREAM },
	{ SERVICE_STREAMS, "GetRecords",
	  "{\"ShardIterator\":\"" STREAM "|1|AAAAAAAAAAEvJp6D+zaQ==\","
	  "\"Limit\":100}",
	  "dynamodb:GetRecords " STREAM },
	{ SERVICE_STREAMS, "GetShardIterator",
	  "{\"StreamArn\":\"" STREAM "\",\"ShardId\":\"shardId-00000001414562045508"
	  "-2bac9cd2\",\"ShardIteratorType\":\"TRIM_HORIZON\"}",
	  "dynamodb:GetShardIterator " STREAM },
	{ SERVICE_STREAMS, "ListStreams", "{\"TableName\":\"Orders\"}",
	  "dynamodb:ListStreams *" },

	/* 4.3 DAX management */
	{ SERVICE_DAX, "CreateCluster",
	  "{\"ClusterName\":\"MyCache\",\"NodeType\":\"dax.r4.large\","
	  "\"ReplicationFactor\":3,\"IamRoleArn\":\"arn:aws:iam::" ACCT
	  ":role/dax\"}",
	  "dax:CreateCluster " CACHE "mycache\n"
	  "dax:CreateCluster " CACHE "MyCache" },
	{ SERVICE_DAX, "CreateParameterGroup", "{\"ParameterGroupName\":\"p\"}",
	  "dax:CreateParameterGroup *" },
	{ SERVICE_DAX, "CreateSubnetGroup",
	  "{\"SubnetGroupName\":\"s\",\"SubnetIds\":[\"subnet-1\"]}",
	  "dax:CreateSubnetGroup *" },
	{ SERVICE_DAX, "DecreaseReplicationFactor",
	  "{\"ClusterName\":\"cache1\",\"NewReplicationFactor\":2}",
	  "dax:DecreaseReplicationFactor " CACHE "cache1" },
	{ SERVICE_DAX, "DeleteCluster", "{\"ClusterName\":\"cache1\"}",
	  "dax:DeleteCluster " CACHE "cache1" },
	{ SERVICE_DAX, "DeleteParameterGroup", "{\"ParameterGroupName\":\"p\"}",
	  "dax:DeleteParameterGroup *" },
	{ SERVICE_DAX, "DeleteSubnetGroup", "{\"SubnetGroupName\":\"s\"}",
	  "dax:DeleteSubnetGroup *" },
	{ SERVICE_DAX, "DescribeClusters", "{\"ClusterNames\":[\"cache1\"]}",
	  "dax:DescribeClusters *" },
	{ SERVICE_DAX, "DescribeDefaultParameters", "{}",
	  "dax:DescribeDefaultParameters *" },
	{ SERVICE_DAX, "DescribeEvents", "{\"SourceName\":\"cache1\"}",
	  "dax:DescribeEvents *" },
	{ SERVICE_DAX, "DescribeParameterGroups", "{}",
	  "dax:DescribeParameterGroups *" },
	{ SERVICE_DAX, "DescribeParameters", "{\"ParameterGroupName\":\"p\"}",
	  "dax:DescribeParameters *" },
	{ SERVICE_DAX, "DescribeSubnetGroups", "{}",
	  "dax:DescribeSubnetGroups *" },
	{ SERVICE_DAX, "IncreaseReplicationFactor",
	  "{\"ClusterName\":\"cache1\",\"NewReplicationFactor\":4}",
	  "dax:IncreaseReplicationFactor " CACHE "cache1" },
	{ SERVICE_DAX, "ListTags", "{\"ResourceName\":\"" CACHE "cache1\"}",
	  "dax:ListTags " CACHE "cache1" },
	{ SERVICE_DAX, "RebootNode",
	  "{\"ClusterName\":\"cache1\",\"NodeId\":\"cache1-a\"}",
	  "dax:RebootNode " CACHE "cache1" },
	{ SERVICE_DAX, "TagResource",
	  "{\"ResourceName\":\"" CACHE "cache1\",\"Tags\":[{\"Key\":\"k\","
	  "\"Value\":\"v\"}]}",
	  "dax:TagResource " CACHE "cache1" },
	{ SERVICE_DAX, "UntagResource",
	  "{\"ResourceName\":\"" CACHE "cache1\",\"TagKeys\":[\"k\"]}",
	  "dax:UntagResource " CACHE "cache1" },
	{ SERVICE_DAX, "UpdateCluster",
	  "{\"ClusterName\":\"cache1\",\"Description\":\"d\"}",
	  "dax:UpdateCluster " CACHE "cache1" },
	{ SERVICE_DAX, "UpdateParameterGroup",
	  "{\"ParameterGroupName\":\"p\",\"ParameterNameValues\":[]}",
	  "dax:UpdateParameterGroup *" },
	{ SERVICE_DAX, "UpdateSubnetGroup", "{\"SubnetGroupName\":\"s\"}",
	  "dax:UpdateSubnetGroup *" },
};

#define NCASES (sizeof(op_cases) / sizeof(op_cases[0]))

static const struct op_case *
find_case(enum endpoint_service s, const char *op)
{
	size_t i;

	for (i = 0; i < NCASES; i++) {
		if (op_cases[i].service == s && strcmp(op_cases[i].op, op) == 0)
			return &op_cases[i];
	}
	fail_msg("no case for %s", op);
	return NULL;
}

static void
test_operation(void **state)
{
	const struct op_case *c = *state;
	struct req r = std_req(c->service, c->op, c->body);
	struct classify_result out;

	ok(&r, &out);
	assert_string_equal(out.operation, c->op);
	assert_int_equal(out.service, c->service);
	assert_pairs(&out, c->pairs);
	classify_result_free(&out);
	assert_null(out.arena);
}

/* Every operation of the tables has its case, and the counts are right. */
static void
test_operation_table(void **state)
{
	static const struct {
		enum endpoint_service s;
		size_t n;
	} want[] = { { SERVICE_DYNAMODB, 58 }, { SERVICE_STREAMS, 4 },
	    { SERVICE_DAX, 21 } };
	const char *name;
	size_t w, i, k, found;

	(void)state;
	for (w = 0; w < 3; w++) {
		for (i = 0; (name = classify_operation_name(want[w].s, i)) !=
		    NULL; i++) {
			for (k = 0, found = 0; k < NCASES; k++)
				found += op_cases[k].service == want[w].s &&
				    strcmp(op_cases[k].op, name) == 0;
			if (found != 1)
				fail_msg("%s has %zu cases", name, found);
		}
		assert_int_equal(i, want[w].n);
	}
	assert_int_equal(NCASES, 58 + 4 + 21);
	assert_null(classify_operation_name(SERVICE_DAX_CLUSTER, 0));
}

/* ---- condition keys of item operations (spec 6.1) ---------------------- */

static void
test_getitem_keys(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":\"#n, address.city, tags[1], orderId\","
	    "\"ExpressionAttributeNames\":{\"#n\":\"name\"},"
	    "\"ReturnConsumedCapacity\":\"TOTAL\",\"ConsistentRead\":true}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c1");
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|orderId|name|address|tags");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "SPECIFIC_ATTRIBUTES");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnConsumedCapacity"),
	    "TOTAL");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"), "(absent)");
	assert_string_equal(akey(&out, 0, "dynamodb:EnclosingOperation"),
	    "(absent)");
	assert_false(out.authz[0].leading_keys_unknown);
	/* FirstPartitionKeyValues = LeadingKeys; multi-attribute partition
	 * keys are never guessed (bypass review, finding 2). */
	assert_string_equal(akey(&out, 0, "dynamodb:FirstPartitionKeyValues"),
	    akey(&out, 0, "dynamodb:LeadingKeys"));
	assert_int_equal(out.authz[0].nunknown_keys, 3);
	assert_true(is_unknown(&out, 0, "dynamodb:SecondPartitionKeyValues"));
	classify_result_free(&out);

	ddb_ok("GetItem", "{\"TableName\":\"Orders\"," GKEY "}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:Select"), "ALL_ATTRIBUTES");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnConsumedCapacity"),
	    "(absent)");
	classify_result_free(&out);

	ddb_ok("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"AttributesToGet\":[\"a\",\"b\"]}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "SPECIFIC_ATTRIBUTES");
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|orderId|a|b");
	classify_result_free(&out);
}

/* N values are the number's text, B values the base64 text. */
static void
test_leading_keys_types(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("GetItem", "{\"TableName\":\"Nums\",\"Key\":{\"n\":{\"N\":"
	    "\"-1.50E3\"}}}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "-1.50E3");
	classify_result_free(&out);
	ddb_ok("DeleteItem", "{\"TableName\":\"Nums\",\"Key\":{\"n\":{\"B\":"
	    "\"AAEC/w==\"}}}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "AAEC/w==");
	classify_result_free(&out);
	ddb_denied("GetItem", "{\"TableName\":\"Nums\",\"Key\":{\"n\":{\"BOOL\":"
	    "true}}}", "Key: the partition key value must be one S, N or B");
	ddb_denied("GetItem", "{\"TableName\":\"Nums\",\"Key\":{\"n\":{\"S\":"
	    "\"a\",\"N\":\"1\"}}}", "must be one S, N or B");
	ddb_denied("GetItem", "{\"TableName\":\"Nums\",\"Key\":{\"n\":{\"N\":"
	    "1}}}", "must be one S, N or B");
	ddb_denied("GetItem", "{\"TableName\":\"Nums\",\"Key\":{\"m\":{\"S\":"
	    "\"secret-value\"}}}", "Key has no value for the partition key");
}

/* A table without a key schema: no guess, a flag for the caller. */
static void
test_leading_keys_unknown(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("GetItem", "{\"TableName\":\"Other\",\"Key\":{\"pk\":{\"S\":"
	    "\"a\"}}}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "(absent)");
	assert_true(out.authz[0].leading_keys_unknown);
	assert_int_equal(out.authz[0].nunknown_keys, 2);
	assert_string_equal(out.authz[0].unknown_keys[0],
	    "dynamodb:LeadingKeys");
	assert_string_equal(out.authz[0].unknown_keys[1],
	    "dynamodb:FirstPartitionKeyValues");
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"), "pk");
	classify_result_free(&out);
	/* the configured table of another account is another table */
	ddb_ok("GetItem", "{\"TableName\":\"" T1 "Orders\"," GKEY "}", &out);
	assert_pairs(&out, "dynamodb:GetItem " T1 "Orders");
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c1");
	classify_result_free(&out);
	ddb_ok("GetItem", "{\"TableName\":\"arn:aws:dynamodb:eu-west-1:" ACCT
	    ":table/Orders\"," GKEY "}", &out);
	assert_true(out.authz[0].leading_keys_unknown);
	classify_result_free(&out);
}

static void
test_write_keys(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("PutItem", "{\"TableName\":\"Orders\",\"Item\":{\"customerId\":"
	    "{\"S\":\"c1\"},\"orderId\":{\"S\":\"o1\"},\"total\":{\"N\":\"5\"}},"
	    "\"ConditionExpression\":\"attribute_not_exists(#o) OR #s IN (:a, :b)\","
	    "\"ExpressionAttributeNames\":{\"#o\":\"orderId\",\"#s\":\"status\"},"
	    "\"ExpressionAttributeValues\":{\":a\":{\"S\":\"x\"},\":b\":{\"S\":\"y\"}}"
	    "}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"), "NONE");
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|orderId|total|status");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"), "(absent)");
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c1");
	classify_result_free(&out);

	ddb_ok("UpdateItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"UpdateExpression\":\"SET #a.#b[2] = list_append(c, :v), d = "
	    "if_not_exists(e.f, :z) + :one REMOVE g[0], h ADD i :n DELETE j :s\","
	    "\"ConditionExpression\":\"size(k) > :n AND begins_with(l, :p) AND "
	    "NOT m BETWEEN :lo AND :hi\",\"ExpressionAttributeNames\":{\"#a\":"
	    "\"A\",\"#b\":\"B\"},\"ReturnValues\":\"UPDATED_NEW\","
	    "\"ReturnConsumedCapacity\":\"INDEXES\"}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|orderId|A|c|d|e|g|h|i|j|k|l|m");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"),
	    "UPDATED_NEW");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnConsumedCapacity"),
	    "INDEXES");
	classify_result_free(&out);

	ddb_ok("UpdateItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"AttributeUpdates\":{\"x\":{\"Action\":\"PUT\",\"Value\":{\"S\":"
	    "\"1\"}}},\"Expected\":{\"y\":{\"Exists\":false}}}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|orderId|x|y");
	classify_result_free(&out);

	ddb_ok("DeleteItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"Expected\":{\"z\":{\"Exists\":false}},\"ReturnValues\":"
	    "\"ALL_OLD\"}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|orderId|z");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"), "ALL_OLD");
	classify_result_free(&out);
}

static void
test_query_keys(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("Query", "{\"TableName\":\"Orders\",\"KeyConditionExpression\":"
	    "\"#c = :c AND orderId BETWEEN :a AND :b\",\"FilterExpression\":"
	    "\"contains(tags, :t)\",\"ExpressionAttributeNames\":{\"#c\":"
	    "\"customerId\"},\"ExpressionAttributeValues\":{\":c\":{\"S\":\"c7\"},"
	    "\":a\":{\"S\":\"1\"},\":b\":{\"S\":\"9\"},\":t\":{\"S\":\"x\"}}}", &out);
	assert_pairs(&out, "dynamodb:Query " T "Orders");
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c7");
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|orderId|tags");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"), "ALL_ATTRIBUTES");
	classify_result_free(&out);

	ddb_ok("Query", "{\"TableName\":\"Orders\",\"KeyConditionExpression\":"
	    "\":c = customerId\",\"ProjectionExpression\":\"a\","
	    "\"ExpressionAttributeValues\":{\":c\":{\"S\":\"c8\"}}}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c8");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "SPECIFIC_ATTRIBUTES");
	classify_result_free(&out);

	ddb_ok("Query", "{\"TableName\":\"Orders\",\"KeyConditions\":"
	    "{\"customerId\":{\"ComparisonOperator\":\"EQ\",\"AttributeValueList\":"
	    "[{\"S\":\"c9\"}]}},\"QueryFilter\":{\"q\":{\"ComparisonOperator\":"
	    "\"NULL\"}},\"Select\":\"COUNT\"}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c9");
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|q");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"), "COUNT");
	classify_result_free(&out);

	/* an index query: ALL_PROJECTED_ATTRIBUTES, LeadingKeys unknown */
	ddb_ok("Query", "{\"TableName\":\"Orders\",\"IndexName\":\"ByDate\","
	    "\"KeyConditionExpression\":\"customerId = :c\","
	    "\"ExpressionAttributeValues\":{\":c\":{\"S\":\"c1\"}}}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "ALL_PROJECTED_ATTRIBUTES");
	assert_true(out.authz[0].leading_keys_unknown);
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "(absent)");
	classify_result_free(&out);

	ddb_denied("Query", "{\"TableName\":\"Orders\",\"KeyConditionExpression\":"
	    "\"orderId = :o\",\"ExpressionAttributeValues\":{\":o\":{\"S\":"
	    "\"1\"}}}", "no equality on the partition key");
	ddb_denied("Query", "{\"TableName\":\"Orders\",\"KeyConditionExpression\":"
	    "\"customerId = :c OR customerId = :d\",\"ExpressionAttributeValues\":"
	    "{\":c\":{\"S\":\"1\"},\":d\":{\"S\":\"2\"}}}", "only join conditions "
	    "with AND");
	ddb_denied("Query", "{\"TableName\":\"Orders\",\"KeyConditionExpression\":"
	    "\"customerId = :c\"}", "ExpressionAttributeValues does not define");
	ddb_denied("Query", "{\"TableName\":\"Orders\",\"KeyConditions\":"
	    "{\"customerId\":{\"ComparisonOperator\":\"BEGINS_WITH\","
	    "\"AttributeValueList\":[{\"S\":\"c\"}]}}}", "must be EQ with one");
}

static void
test_scan_keys(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("Scan", "{\"TableName\":\"Orders\",\"ScanFilter\":{\"s\":"
	    "{\"ComparisonOperator\":\"NOT_NULL\"}},\"AttributesToGet\":[\"t\"]}",
	    &out);
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "(absent)");
	assert_false(out.authz[0].leading_keys_unknown);
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"), "s|t");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "SPECIFIC_ATTRIBUTES");
	classify_result_free(&out);
	ddb_ok("Scan", "{\"TableName\":\"Other\",\"IndexName\":\"Idx1\"}",
	    &out);
	assert_pairs(&out, "dynamodb:Scan " T "Other/index/Idx1");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "ALL_PROJECTED_ATTRIBUTES");
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"), "(absent)");
	assert_false(out.authz[0].leading_keys_unknown);
	classify_result_free(&out);
	ddb_denied("Scan", "{\"TableName\":\"Orders\",\"Select\":\"ALL\"}",
	    "Select is not a value the gateway knows");
}

/* A batch mixing tables: one pair per table, each with its own keys. */
static void
test_batch_mixing_tables(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("BatchWriteItem", "{\"RequestItems\":{\"Orders\":["
	    "{\"PutRequest\":{\"Item\":{\"customerId\":{\"S\":\"c1\"},\"orderId\":"
	    "{\"S\":\"o1\"},\"x\":{\"S\":\"1\"}}}},"
	    "{\"DeleteRequest\":{\"Key\":{\"customerId\":{\"S\":\"c2\"},"
	    "\"orderId\":{\"S\":\"o2\"}}}},"
	    "{\"PutRequest\":{\"Item\":{\"customerId\":{\"S\":\"c1\"},\"orderId\":"
	    "{\"S\":\"o3\"}}}}],"
	    "\"" T "Customers\":[{\"PutRequest\":{\"Item\":{\"id\":{\"S\":\"k\"}}}}],"
	    "\"Other\":[{\"DeleteRequest\":{\"Key\":{\"p\":{\"S\":\"k\"}}}}]},"
	    "\"ReturnConsumedCapacity\":\"TOTAL\"}", &out);
	assert_pairs(&out, "dynamodb:BatchWriteItem " T "Orders\n"
	    "dynamodb:BatchWriteItem " T "Customers\n"
	    "dynamodb:BatchWriteItem " T "Other");
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c1|c2");
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|orderId|x");
	assert_string_equal(akey(&out, 1, "dynamodb:LeadingKeys"), "k");
	assert_string_equal(akey(&out, 1, "dynamodb:Attributes"), "id");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnConsumedCapacity"),
	    "TOTAL");
	assert_string_equal(akey(&out, 2, "dynamodb:ReturnConsumedCapacity"),
	    "TOTAL");
	assert_true(out.authz[2].leading_keys_unknown);
	assert_false(out.authz[0].leading_keys_unknown);
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"), "(absent)");
	classify_result_free(&out);

	ddb_ok("BatchGetItem", "{\"RequestItems\":{\"Orders\":{\"Keys\":["
	    "{\"customerId\":{\"S\":\"c1\"},\"orderId\":{\"S\":\"o1\"}},"
	    "{\"customerId\":{\"S\":\"c3\"},\"orderId\":{\"S\":\"o1\"}}],"
	    "\"ProjectionExpression\":\"#t\",\"ExpressionAttributeNames\":"
	    "{\"#t\":\"total\"}},\"Customers\":{\"Keys\":[{\"id\":{\"S\":\"z\"}}]}}}",
	    &out);
	assert_pairs(&out, "dynamodb:BatchGetItem " T "Orders\n"
	    "dynamodb:BatchGetItem " T "Customers");
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c1|c3");
	assert_string_equal(akey(&out, 0, "dynamodb:Attributes"),
	    "customerId|orderId|total");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "SPECIFIC_ATTRIBUTES");
	assert_string_equal(akey(&out, 1, "dynamodb:Select"), "ALL_ATTRIBUTES");
	assert_string_equal(akey(&out, 1, "dynamodb:LeadingKeys"), "z");
	classify_result_free(&out);

	ddb_denied("BatchWriteItem", "{\"RequestItems\":{\"Orders\":[{"
	    "\"PutRequest\":{\"Item\":{}},\"DeleteRequest\":{\"Key\":{}}}]}}",
	    "RequestItems.Orders[0] must hold exactly one PutRequest or "
	    "DeleteRequest");
	ddb_denied("BatchWriteItem", "{\"RequestItems\":{}}",
	    "RequestItems must name at least one table");
	ddb_denied("BatchGetItem", "{\"RequestItems\":{\"Orders\":{\"Keys\":"
	    "{}}}}", "RequestItems.Orders.Keys must be an array");
}

static void
test_transact_keys(void **state)
{
	struct classify_result out;
	size_t i;

	(void)state;
	ddb_ok("TransactGetItems", "{\"TransactItems\":[{\"Get\":{\"TableName\":"
	    "\"Orders\"," GKEY ",\"ProjectionExpression\":\"a\"}}],"
	    "\"ReturnConsumedCapacity\":\"NONE\"}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:EnclosingOperation"),
	    "TransactGetItems");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "SPECIFIC_ATTRIBUTES");
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c1");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnConsumedCapacity"),
	    "NONE");
	classify_result_free(&out);

	ddb_ok("TransactWriteItems", find_case(SERVICE_DYNAMODB,
	    "TransactWriteItems")->body, &out);
	for (i = 0; i < 4; i++) {
		assert_string_equal(akey(&out, i, "dynamodb:EnclosingOperation"),
		    "TransactWriteItems");
		assert_string_equal(akey(&out, i, "dynamodb:ReturnValues"),
		    "NONE");
	}
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "c1");
	assert_string_equal(akey(&out, 1, "dynamodb:Attributes"),
	    "customerId|orderId|total");
	assert_string_equal(akey(&out, 2, "dynamodb:LeadingKeys"), "c9");
	assert_string_equal(akey(&out, 3, "dynamodb:LeadingKeys"), "7");
	assert_string_equal(akey(&out, 3, "dynamodb:Attributes"), "n");
	classify_result_free(&out);

	ddb_denied("TransactGetItems", "{\"TransactItems\":[{\"Put\":"
	    "{\"TableName\":\"Orders\",\"Item\":{}}}]}",
	    "TransactItems[0] must hold Get");
	ddb_denied("TransactWriteItems", "{\"TransactItems\":[{\"Get\":"
	    "{\"TableName\":\"Orders\"," GKEY "}}]}",
	    "TransactItems[0] must hold Put, Update, Delete or ConditionCheck");
	ddb_denied("TransactWriteItems", "{\"TransactItems\":[{\"Put\":"
	    "{\"TableName\":\"Orders\",\"Item\":{}},\"Delete\":{}}]}",
	    "TransactItems[0] must be an object with one member");
	ddb_denied("TransactWriteItems", "{\"TransactItems\":[]}",
	    "TransactItems must not be empty");
}

/* ---- PartiQL ------------------------------------------------------------ */

static void
partiql_ok(const char *stmt_json, struct classify_result *out)
{
	char body[2048];

	snprintf(body, sizeof(body), "{\"Statement\":\"%s\"}", stmt_json);
	ddb_ok("ExecuteStatement", body, out);
}

static void
partiql_denied(const char *stmt_json, const char *part)
{
	char body[2048];

	snprintf(body, sizeof(body), "{\"Statement\":\"%s\"}", stmt_json);
	ddb_denied("ExecuteStatement", body, part);
}

/* The single pair of a statement, and its FullTableScan. */
static void
partiql_is(const char *stmt_json, const char *pairs, const char *scan)
{
	struct classify_result out;

	partiql_ok(stmt_json, &out);
	assert_pairs(&out, pairs);
	if (strcmp(akey(&out, 0, "dynamodb:FullTableScan"), scan) != 0)
		fail_msg("%s: FullTableScan %s, want %s", stmt_json,
		    akey(&out, 0, "dynamodb:FullTableScan"), scan);
	assert_true(out.authz[0].leading_keys_unknown);
	assert_true(is_unknown(&out, 0, "dynamodb:LeadingKeys"));
	assert_true(is_unknown(&out, 0, "dynamodb:Attributes"));
	classify_result_free(&out);
}

static void
test_partiql_full_table_scan(void **state)
{
	(void)state;
	partiql_is("SELECT * FROM Orders", "dynamodb:PartiQLSelect " T "Orders",
	    "true");
	partiql_is("SELECT * FROM Orders WHERE customerId = 'c1'",
	    "dynamodb:PartiQLSelect " T "Orders", "false");
	partiql_is("select * from \\\"Orders\\\" where \\\"customerId\\\" = ? "
	    "and orderId > 5", "dynamodb:PartiQLSelect " T "Orders", "false");
	partiql_is("SELECT * FROM Orders WHERE 'c1' = customerId",
	    "dynamodb:PartiQLSelect " T "Orders", "false");
	partiql_is("SELECT * FROM Orders WHERE orderId BETWEEN 1 AND 2 AND "
	    "customerId IN ['a', 'b']", "dynamodb:PartiQLSelect " T "Orders",
	    "false");
	partiql_is("SELECT * FROM Nums WHERE n = -5",
	    "dynamodb:PartiQLSelect " T "Nums", "false");
	partiql_is("SELECT * FROM Orders WHERE customerId = 'a' OR x = 1",
	    "dynamodb:PartiQLSelect " T "Orders", "true");
	partiql_is("SELECT * FROM Orders WHERE (customerId = 'a')",
	    "dynamodb:PartiQLSelect " T "Orders", "true");
	partiql_is("SELECT * FROM Orders WHERE customerId <> 'a'",
	    "dynamodb:PartiQLSelect " T "Orders", "true");
	partiql_is("SELECT * FROM Orders WHERE customerid = 'a'",
	    "dynamodb:PartiQLSelect " T "Orders", "true");
	partiql_is("SELECT * FROM Orders WHERE customerId IN ['a'] || 'b'",
	    "dynamodb:PartiQLSelect " T "Orders", "true");
	partiql_is("SELECT * FROM Orders WHERE x BETWEEN 'a' AND customerId "
	    "= 'b'", "dynamodb:PartiQLSelect " T "Orders", "true");
	partiql_is("SELECT * FROM Orders WHERE customerId = 'a' ORDER BY "
	    "orderId DESC", "dynamodb:PartiQLSelect " T "Orders", "false");
	/* no key schema, or an index: not known */
	partiql_is("SELECT * FROM Other WHERE pk = 'a'",
	    "dynamodb:PartiQLSelect " T "Other", "(absent)");
	partiql_is("SELECT * FROM \\\"Orders\\\".\\\"ByDate\\\" WHERE "
	    "customerId = 'a'", "dynamodb:PartiQLSelect " T
	    "Orders/index/ByDate", "(absent)");
	partiql_is("SELECT * FROM Other", "dynamodb:PartiQLSelect " T "Other",
	    "true");
}

static void
test_partiql_unknown_scan_flag(void **state)
{
	struct classify_result out;

	(void)state;
	partiql_ok("SELECT * FROM Other WHERE pk = 'a'", &out);
	assert_true(is_unknown(&out, 0, "dynamodb:FullTableScan"));
	assert_int_equal(out.authz[0].nunknown_keys, 4);
	classify_result_free(&out);
	partiql_ok("SELECT * FROM Orders WHERE customerId = 'a'", &out);
	assert_false(is_unknown(&out, 0, "dynamodb:FullTableScan"));
	/* LeadingKeys, FirstPartitionKeyValues, Attributes */
	assert_int_equal(out.authz[0].nunknown_keys, 3);
	classify_result_free(&out);
}

static void
test_partiql_identifiers(void **state)
{
	struct classify_result out;

	(void)state;
	/* quoted names with dots, "" escapes, keywords in quotes and strings */
	partiql_ok("SELECT \\\"from\\\", \\\"a\\\"\\\"b\\\" FROM \\\"Ord.ers\\\" "
	    "WHERE x = 'it''s FROM \\\"Other\\\" -- /*'", &out);
	assert_pairs(&out, "dynamodb:PartiQLSelect " T "Ord.ers");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "SPECIFIC_ATTRIBUTES");
	classify_result_free(&out);
	partiql_ok("SELECT * FROM \\\"Orders\\\".\\\"ByDate\\\"", &out);
	assert_pairs(&out, "dynamodb:PartiQLSelect " T "Orders/index/ByDate");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"),
	    "ALL_PROJECTED_ATTRIBUTES");
	classify_result_free(&out);
	partiql_ok("SELECT * FROM Orders.ByDate", &out);
	assert_pairs(&out, "dynamodb:PartiQLSelect " T "Orders/index/ByDate");
	classify_result_free(&out);
	partiql_ok("SELECT * FROM \\\"" T1 "Orders\\\"", &out);
	assert_pairs(&out, "dynamodb:PartiQLSelect " T1 "Orders");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"), "ALL_ATTRIBUTES");
	classify_result_free(&out);
	/* a \u-escaped name in JSON is read as DynamoDB reads it */
	partiql_ok("SELECT * FROM \\\"Ord\\u0065rs\\\"", &out);
	assert_pairs(&out, "dynamodb:PartiQLSelect " T "Orders");
	classify_result_free(&out);
	partiql_denied("SELECT * FROM \\\"Or\\\"\\\"ders\\\"",
	    "the table of Statement is not a valid table name");
	partiql_denied("SELECT * FROM \\\"\\\"", "cannot read the PartiQL");
	partiql_denied("SELECT * FROM my-table", "Statement");
	partiql_denied("SELECT * FROM abc-table", "cannot read the PartiQL");
}

static void
test_partiql_verbs(void **state)
{
	struct classify_result out;

	(void)state;
	partiql_ok("update Orders set a = 1 where customerId = 'x' "
	    "returning all new *", &out);
	assert_pairs(&out, "dynamodb:PartiQLUpdate " T "Orders");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"), "ALL_NEW");
	assert_string_equal(akey(&out, 0, "dynamodb:FullTableScan"), "(absent)");
	assert_string_equal(akey(&out, 0, "dynamodb:Select"), "(absent)");
	classify_result_free(&out);
	partiql_ok("UPDATE \\\"Orders\\\" REMOVE a WHERE customerId = 'x' "
	    "RETURNING MODIFIED OLD *", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"),
	    "UPDATED_OLD");
	classify_result_free(&out);
	partiql_ok("DELETE FROM Orders WHERE customerId = 'x' RETURNING ALL "
	    "OLD *", &out);
	assert_pairs(&out, "dynamodb:PartiQLDelete " T "Orders");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"), "ALL_OLD");
	classify_result_free(&out);
	partiql_ok("DELETE FROM Orders WHERE customerId = 'x'", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"), "NONE");
	assert_string_equal(akey(&out, 0, "dynamodb:EnclosingOperation"),
	    "(absent)");
	classify_result_free(&out);
	partiql_ok("INSERT INTO Orders VALUE {'customerId': 'x', 'n': 1.5e3, "
	    "'l': [1, 2], 'm': {'from': 'select'}}", &out);
	assert_pairs(&out, "dynamodb:PartiQLInsert " T "Orders");
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnValues"), "(absent)");
	classify_result_free(&out);
	ddb_ok("ExecuteStatement", "{\"Statement\":\"SELECT * FROM Orders\","
	    "\"ReturnConsumedCapacity\":\"TOTAL\"}", &out);
	assert_string_equal(akey(&out, 0, "dynamodb:ReturnConsumedCapacity"),
	    "TOTAL");
	classify_result_free(&out);
}

static void
test_partiql_transaction(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("ExecuteTransaction", find_case(SERVICE_DYNAMODB,
	    "ExecuteTransaction")->body, &out);
	assert_string_equal(akey(&out, 0, "dynamodb:EnclosingOperation"),
	    "ExecuteTransaction");
	assert_string_equal(akey(&out, 1, "dynamodb:EnclosingOperation"),
	    "ExecuteTransaction");
	assert_string_equal(akey(&out, 1, "dynamodb:FullTableScan"), "false");
	assert_string_equal(akey(&out, 2, "dynamodb:ReturnValues"), "NONE");
	classify_result_free(&out);
	ddb_ok("BatchExecuteStatement", find_case(SERVICE_DYNAMODB,
	    "BatchExecuteStatement")->body, &out);
	assert_string_equal(akey(&out, 0, "dynamodb:EnclosingOperation"),
	    "(absent)");
	assert_string_equal(akey(&out, 0, "dynamodb:FullTableScan"), "false");
	assert_string_equal(akey(&out, 1, "dynamodb:FullTableScan"), "true");
	classify_result_free(&out);
	/* EXISTS only in a transaction */
	partiql_denied("EXISTS(SELECT * FROM Orders)", "cannot read the "
	    "PartiQL statement");
	ddb_denied("ExecuteTransaction", "{\"TransactStatements\":[{\"Statement\":"
	    "\"EXISTS(SELECT * FROM Orders) AND 1 = 1\"}]}", "cannot read");
	ddb_denied("ExecuteTransaction", "{\"TransactStatements\":[{\"Statement\":"
	    "\"NOT EXISTS(SELECT * FROM Orders)\"}]}", "is not a SELECT");
	ddb_denied("ExecuteTransaction", "{\"TransactStatements\":[{\"Statement\":"
	    "\"EXISTS(DELETE FROM Orders WHERE customerId = 'a')\"}]}",
	    "is not a SELECT");
	ddb_denied("ExecuteTransaction", "{\"TransactStatements\":[]}",
	    "TransactStatements must not be empty");
}

static void
test_partiql_refusals(void **state)
{
	static const char *const bad[] = {
		"SELECT * FROM Orders; DELETE FROM Orders",
		"SELECT * FROM Orders -- comment",
		"SELECT * FROM Orders /* x */",
		"SELECT * FROM Orders WHERE a IN (SELECT b FROM Other)",
		"SELECT (SELECT b FROM Other) FROM Orders",
		"SELECT * FROM Orders, Other",
		"SELECT * FROM Orders AS o",
		"SELECT * FROM Orders WHERE a = 'unterminated",
		"SELECT * FROM \\\"Orders",
		"SELECT * FROM Orders WHERE (a = 1",
		"SELECT * FROM Orders WHERE a = 1)",
		"SELECT * FROM Orders WHERE a = `ion`",
		"SELECT *",
		"SELECT * FROM",
		"INSERT INTO Orders SELECT * FROM Other",
		"INSERT Orders VALUE {'a': 1}",
		"UPDATE Orders WHERE a = 1",
		"UPDATE Orders SET a = 1 RETURNING ALL *",
		"UPDATE Orders SET a = 1 RETURNING ALL NEW * RETURNING ALL OLD *",
		"SELECT * FROM Orders RETURNING ALL OLD *",
		"DELETE Orders WHERE a = 1",
		"DELETE FROM Orders.Idx WHERE a = 1",
		"UPSERT INTO Orders VALUE {'a': 1}",
		"",
		"SELECT * FROM Orders WHERE a = 1abc",
		"SELECT * FROM Orders WHERE a = @x",
		"SELECT * FROM Orders WHERE a = 'x' \xc3\xa9",
		"SELECT * FROM Orders WHERE a = 'x\\\\' FROM Other",
		"SELECT * FROM \\\"Ord\\\\ers\\\"",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		partiql_denied(bad[i], "Statement");
	ddb_denied("ExecuteStatement", "{\"Statement\":5}",
	    "Statement must be a string");
	ddb_denied("BatchExecuteStatement", "{\"Statements\":[{\"Statement\":"
	    "\"SELECT * FROM Orders\"},{\"Statement\":\"SELECT * FROM\"}]}",
	    "Statements[1].Statement: cannot read the table");
	ddb_denied("BatchExecuteStatement", "{\"Statements\":[\"SELECT 1\"]}",
	    "Statements[0] must be an object");
}

/* ---- tags -------------------------------------------------------------- */

static void
test_tag_keys(void **state)
{
	struct classify_result out;
	struct req r;

	(void)state;
	ddb_ok("TagResource", "{\"ResourceArn\":\"" T "Orders\",\"Tags\":"
	    "[{\"Key\":\"env\",\"Value\":\"prod\"},{\"Key\":\"team\",\"Value\":"
	    "\"a\"}]}", &out);
	assert_string_equal(akey(&out, 0, "aws:RequestTag/env"), "prod");
	assert_string_equal(akey(&out, 0, "aws:RequestTag/team"), "a");
	assert_string_equal(akey(&out, 0, "aws:TagKeys"), "env|team");
	classify_result_free(&out);
	ddb_ok("UntagResource", "{\"ResourceArn\":\"" T "Orders\",\"TagKeys\":"
	    "[\"env\",\"x\"]}", &out);
	assert_string_equal(akey(&out, 0, "aws:TagKeys"), "env|x");
	classify_result_free(&out);
	ddb_ok("CreateTable", "{\"TableName\":\"T3x\",\"Tags\":[{\"Key\":\"k\","
	    "\"Value\":\"v\"}],\"ResourcePolicy\":\"{}\"}", &out);
	assert_pairs(&out, "dynamodb:CreateTable " T "T3x\n"
	    "dynamodb:PutResourcePolicy " T "T3x");
	assert_string_equal(akey(&out, 0, "aws:RequestTag/k"), "v");
	assert_string_equal(akey(&out, 1, "aws:TagKeys"), "(absent)");
	classify_result_free(&out);
	r = std_req(SERVICE_DAX, "TagResource",
	    find_case(SERVICE_DAX, "TagResource")->body);
	ok(&r, &out);
	assert_string_equal(akey(&out, 0, "aws:RequestTag/k"), "v");
	classify_result_free(&out);
	ddb_denied("TagResource", "{\"ResourceArn\":\"" T "Orders\",\"Tags\":"
	    "[{\"Value\":\"v\"}]}", "Tags[0].Key is required");
	ddb_denied("UntagResource", "{\"ResourceArn\":\"" T "Orders\","
	    "\"TagKeys\":[1]}", "TagKeys must hold strings");
}

/* ---- request-wide keys (spec 6.2) -------------------------------------- */

static void
test_request_keys(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct req r = std_req(SERVICE_DYNAMODB, "ListTables", "{}");
	struct classify_result out;

	(void)state;
	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	r.client = (struct sockaddr *)&sin;
	r.extra = "User-Agent: aws-sdk-go/1.0 (x)\r\n";
	ok(&r, &out);
	assert_string_equal(rkey(&out, "aws:SourceIp"), "10.1.2.3");
	assert_string_equal(rkey(&out, "aws:SecureTransport"), "true");
	assert_string_equal(rkey(&out, "aws:CurrentTime"),
	    "2026-11-24T02:05:00Z");
	assert_string_equal(rkey(&out, "aws:EpochTime"), "1795485900");
	assert_string_equal(rkey(&out, "aws:RequestedRegion"), "us-east-1");
	assert_string_equal(rkey(&out, "aws:PrincipalArn"),
	    "arn:aws:iam::" ACCT ":role/orders-app");
	assert_string_equal(rkey(&out, "aws:PrincipalAccount"), ACCT);
	assert_string_equal(rkey(&out, "aws:userid"),
	    "AROAEXAMPLEROLEID0001:orders-app");
	assert_string_equal(rkey(&out, "aws:SourceVpce"),
	    "vpce-0abc1234def567890");
	assert_string_equal(rkey(&out, "aws:UserAgent"), "aws-sdk-go/1.0 (x)");
	assert_string_equal(out.principal, "arn:aws:iam::" ACCT
	    ":role/orders-app");
	assert_string_equal(out.access_key_id, KEY);
	assert_string_equal(out.region, "us-east-1");
	assert_string_equal(out.signature, SIG);
	assert_int_equal(out.request_time, NOW);
	classify_result_free(&out);

	/* an unmapped key: no principal keys; no client, no UA */
	r = std_req(SERVICE_DYNAMODB, "DescribeTable",
	    "{\"TableName\":\"Orders\"}");
	r.key = KEY2;
	r.secure = false;
	ok(&r, &out);
	assert_null(out.principal);
	assert_string_equal(rkey(&out, "aws:SourceIp"), "(absent)");
	assert_string_equal(rkey(&out, "aws:SecureTransport"), "false");
	assert_string_equal(rkey(&out, "aws:PrincipalArn"), "(absent)");
	assert_string_equal(rkey(&out, "aws:PrincipalAccount"), "(absent)");
	assert_string_equal(rkey(&out, "aws:userid"), "(absent)");
	assert_string_equal(rkey(&out, "aws:UserAgent"), "(absent)");
	/* the configured account builds the ARN */
	assert_pairs(&out, "dynamodb:DescribeTable " T1 "Orders");
	classify_result_free(&out);

	/* a mapped principal without userid and with a short account */
	r.key = "AKIAIOSFODNN7EXAMPL3";
	ok(&r, &out);
	assert_string_equal(rkey(&out, "aws:PrincipalArn"),
	    "arn:aws:iam::1:user/x");
	assert_string_equal(rkey(&out, "aws:PrincipalAccount"), "(absent)");
	assert_string_equal(rkey(&out, "aws:userid"), "(absent)");
	assert_pairs(&out, "dynamodb:DescribeTable " T1 "Orders");
	classify_result_free(&out);
}

static void
test_source_ip_v6(void **state)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct req r = std_req(SERVICE_DYNAMODB, "ListTables", "{}");
	struct classify_result out;

	(void)state;
	r.client = (struct sockaddr *)&s6;
	inet_pton(AF_INET6, "2001:db8::7", &s6.sin6_addr);
	ok(&r, &out);
	assert_string_equal(rkey(&out, "aws:SourceIp"), "2001:db8::7");
	classify_result_free(&out);
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &s6.sin6_addr);
	ok(&r, &out);
	assert_string_equal(rkey(&out, "aws:SourceIp"), "192.0.2.9");
	classify_result_free(&out);
}

static void
test_policy_request(void **state)
{
	struct classify_result out;
	struct policy_key keys[64];
	struct policy_request req;

	(void)state;
	ddb_ok("GetItem", "{\"TableName\":\"Orders\"," GKEY "}", &out);
	assert_true(out.authz[0].nkeys + out.nkeys <= 64);
	classify_policy_request(&out, 0, keys, &req);
	assert_string_equal(req.action, "dynamodb:GetItem");
	assert_string_equal(req.resource, T "Orders");
	assert_string_equal(req.principal, out.principal);
	assert_int_equal(req.nkeys, out.authz[0].nkeys + out.nkeys);
	assert_string_equal(values(req.keys, req.nkeys, "dynamodb:LeadingKeys"),
	    "c1");
	assert_string_equal(values(req.keys, req.nkeys, "aws:SourceVpce"),
	    "vpce-0abc1234def567890");
	classify_result_free(&out);
	classify_result_free(&out);	/* twice is harmless */
	classify_result_free(NULL);
}

/* ---- refusals: headers ------------------------------------------------- */

#define UNKNOWN_OP "com.amazon.coral.service#UnknownOperationException"

static void
test_unknown_target(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "GetItem", "{}");

	(void)state;
	r.target = "DynamoDB_20120810.GetItems";
	refused(&r, UNKNOWN_OP, "not an operation of DynamoDB_20120810");
	r.target = "DynamoDB_20120810.getitem";
	refused(&r, UNKNOWN_OP, "not an operation");
	r.target = "dynamodb_20120810.GetItem";
	refused(&r, UNKNOWN_OP, "not an operation");
	r.target = "DynamoDB_20120810GetItem";
	refused(&r, UNKNOWN_OP, "not an operation");
	r.target = "DynamoDB_20120810.";
	refused(&r, UNKNOWN_OP, "not an operation");
	r.target = "DynamoDB_20120810.GetItem ";	/* OWS is trimmed */
	r.body = "{\"TableName\":\"Orders\"," GKEY "}";
	{
		struct classify_result out;

		ok(&r, &out);
		classify_result_free(&out);
	}
	r.body = "{}";
	r.target = "DynamoDB_20120810.GetItem.x";
	refused(&r, UNKNOWN_OP, "not an operation");
	r.target = "DynamoDBStreams_20120810.GetRecords";
	refused(&r, UNKNOWN_OP, "not an operation");
	r.target = "AmazonDAXV3.CreateCluster";
	refused(&r, UNKNOWN_OP, "not an operation");
	r.target = NULL;
	refused(&r, UNKNOWN_OP, "missing X-Amz-Target header");
	r = std_req(SERVICE_STREAMS, "GetItem", "{}");
	refused(&r, UNKNOWN_OP, "of DynamoDBStreams_20120810");
	r = std_req(SERVICE_DAX, "GetItem", "{}");
	refused(&r, UNKNOWN_OP, "of AmazonDAXV3");
}

static void
test_repeated_target(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "ListTables", "{}");

	(void)state;
	r.extra = "X-Amz-Target: DynamoDB_20120810.DeleteTable\r\n";
	refused(&r, DENIED, "repeated X-Amz-Target header");
	r.extra = "x-amz-target: DynamoDB_20120810.ListTables\r\n";
	refused(&r, DENIED, "repeated X-Amz-Target header");
}

static void
test_content_type(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "ListTables", "{}");
	struct classify_result out;

	(void)state;
	r.content_type = "application/x-amz-json-1.1";
	refused(&r, UNKNOWN_OP, "Content-Type must be "
	    "application/x-amz-json-1.0");
	r.content_type = "application/json";
	refused(&r, UNKNOWN_OP, "Content-Type must be");
	r.content_type = "application/x-amz-json-1.0; charset=latin1";
	refused(&r, UNKNOWN_OP, "Content-Type must be");
	r.content_type = "application/x-amz-json-1.0x";
	refused(&r, UNKNOWN_OP, "Content-Type must be");
	r.content_type = "Application/X-Amz-JSON-1.0; charset=UTF-8";
	ok(&r, &out);
	classify_result_free(&out);
	r.content_type = NULL;
	r.extra = "Content-Type: application/x-amz-json-1.0\r\n";
	refused(&r, DENIED, "repeated Content-Type header");
	r = std_req(SERVICE_DAX, "DescribeEvents", "{}");
	r.content_type = "application/x-amz-json-1.0";
	refused(&r, UNKNOWN_OP, "Content-Type must be "
	    "application/x-amz-json-1.1");
}

#define INVALID_SIG "com.amazon.coral.service#InvalidSignatureException"
#define INCOMPLETE_SIG "com.amazon.coral.service#IncompleteSignatureException"

static void
test_authorization(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "ListTables", "{}");

	(void)state;
	r.auth = "";
	refused(&r, "com.amazon.coral.service#MissingAuthenticationTokenException",
	    "Request is missing Authentication Token");
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261124/us-east-1/"
	    "dynamodb/aws4_request, SignedHeaders=host";
	refused(&r, INCOMPLETE_SIG, "requires 'Signature' parameter");
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261124/us-east-1/"
	    "dynamodb/aws4_request, SignedHeaders=host, Signature=" SIG
	    ", Signature=" SIG;
	refused(&r, INCOMPLETE_SIG, "repeated parameter 'Signature'");
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261124/us-east-1/"
	    "dynamodb/aws4_request, SignedHeaders=x-amz-date, Signature=" SIG;
	refused(&r, INVALID_SIG, "'Host' must be a 'SignedHeader'");
	r.auth = NULL;
	r.extra = "Authorization: AWS4-HMAC-SHA256 x\r\n";
	refused(&r, DENIED, "repeated Authorization header");
	r.extra = NULL;
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261124/us-east-1/"
	    "dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    SIG;
	refused(&r, INVALID_SIG, "There were headers present in the request "
	    "which were not signed: X-Amz-Target");
	r.auth = NULL;
	r.extra = "X-Amz-Security-Token: t\r\n";
	refused(&r, INVALID_SIG, "not signed: X-Amz-Security-Token");
	r.extra = NULL;
	r.key = "AKIA1";
	refused(&r, "com.amazon.coral.service#UnrecognizedClientException",
	    "The security token included in the request is invalid.");
}

/* A missing Authorization header is MissingAuthenticationToken. */
static void
test_missing_authorization(void **state)
{
	struct classify_input in;
	struct classify_result out;
	static const char head[] = "POST / HTTP/1.1\r\nHost: h\r\n"
	    "X-Amz-Target: DynamoDB_20120810.ListTables\r\n"
	    "Content-Type: application/x-amz-json-1.0\r\n"
	    "X-Amz-Date: " AMZ_DATE "\r\nContent-Length: 2\r\n\r\n";
	enum http1_error err;

	(void)state;
	assert_int_equal(http1_parse_request(head, sizeof(head) - 1, 4096,
	    &parsed, &err), HTTP1_OK);
	memset(&in, 0, sizeof(in));
	in.service = SERVICE_DYNAMODB;
	in.cfg = cfg;
	in.now = NOW;
	in.headers = parsed.headers;
	in.nheaders = parsed.nheaders;
	in.body = "{}";
	in.body_len = 2;
	assert_int_equal(classify_request(&in, &out, &why), CLASSIFY_REFUSE);
	assert_string_equal(why.type,
	    "com.amazon.coral.service#MissingAuthenticationTokenException");
	assert_string_equal(why.message, "Request is missing Authentication "
	    "Token");
}

static void
test_request_time(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "ListTables", "{}");
	struct classify_result out;

	(void)state;
	r.date = "20261124T010203Z";
	refused(&r, INVALID_SIG, "Signature expired: 20261124T010203Z is now "
	    "earlier than 20261124T015000Z (20261124T020500Z - 15 min.)");
	r.date = "20261124T030000Z";
	refused(&r, INVALID_SIG, "Signature not yet current: 20261124T030000Z "
	    "is still later than 20261124T022000Z (20261124T020500Z + 15 "
	    "min.)");
	r.date = "20261124T021959Z";	/* 14:59 ahead: fine */
	ok(&r, &out);
	assert_int_equal(out.request_time, NOW + 899);
	classify_result_free(&out);
	r.date = "2026-11-24";
	refused(&r, INCOMPLETE_SIG, "Date must be in ISO-8601 'basic format'");
	r.date = NULL;
	refused(&r, INCOMPLETE_SIG, "requires existence of either a "
	    "'X-Amz-Date' or a 'Date' header");
	r.extra = "Date: Tue, 24 Nov 2026 02:04:00 GMT\r\n";
	refused(&r, INVALID_SIG, "'Date' must be a 'SignedHeader'");
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261124/us-east-1/"
	    "dynamodb/aws4_request, SignedHeaders=content-type;date;host;"
	    "x-amz-target, Signature=" SIG;
	ok(&r, &out);
	assert_int_equal(out.request_time, NOW - 60);
	classify_result_free(&out);
	r.extra = "Date: Tue, 24 Nov 2026 01:04:00 GMT\r\n";
	refused(&r, INVALID_SIG, "Signature expired");
	r.date = AMZ_DATE;
	r.extra = "X-Amz-Date: " AMZ_DATE "\r\n";
	refused(&r, DENIED, "repeated X-Amz-Date header");
}

static void
test_scope(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "ListTables", "{}");

	(void)state;
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261124/eu-west-1/"
	    "dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, "
	    "Signature=" SIG;
	refused(&r, INVALID_SIG, "Credential should be scoped to a valid "
	    "region, not 'eu-west-1'. This endpoint serves 'us-east-1'.");
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261124/us-east-1/"
	    "dax/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, "
	    "Signature=" SIG;
	refused(&r, INVALID_SIG, "Credential should be scoped to correct "
	    "service: 'dynamodb'. ");
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261123/us-east-1/"
	    "dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, "
	    "Signature=" SIG;
	refused(&r, INVALID_SIG, "Date in Credential scope does not match");
	/* Streams sign as dynamodb; DAX as dax */
	r = std_req(SERVICE_STREAMS, "ListStreams", "{}");
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261124/us-east-1/"
	    "streams.dynamodb/aws4_request, SignedHeaders=host;x-amz-date;"
	    "x-amz-target, Signature=" SIG;
	refused(&r, INVALID_SIG, "valid service");
	r = std_req(SERVICE_DAX, "DescribeEvents", "{}");
	r.auth = "AWS4-HMAC-SHA256 Credential=" KEY "/20261124/us-east-1/"
	    "dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, "
	    "Signature=" SIG;
	refused(&r, INVALID_SIG, "correct service: 'dax'");
}

static void
test_query_string(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "ListTables", "{}");

	(void)state;
	r.path = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x";
	refused(&r, DENIED, "a query string is not accepted (presigned "
	    "requests are not supported)");
	r.path = "/?";
	refused(&r, DENIED, "a query string is not accepted");
}

static void
test_dax_cluster_service(void **state)
{
	struct req r = std_req(SERVICE_DAX_CLUSTER, "GetItem", "{}");

	(void)state;
	refused(&r, DENIED, "the dax-cluster service is not an HTTP API");
}

static void
test_user_agent(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "ListTables", "{}");

	(void)state;
	r.extra = "User-Agent: a\r\nUser-Agent: b\r\n";
	refused(&r, DENIED, "repeated User-Agent header");
}

/* ---- refusals: the body ------------------------------------------------ */

#define SERIALIZATION "com.amazon.coral.service#SerializationException"

static void
body_refused(const char *body, size_t len, const char *type, const char *part)
{
	struct req r = std_req(SERVICE_DYNAMODB, "GetItem", body);

	r.body_len = len;
	refused(&r, type, part);
}

static void
test_body_json(void **state)
{
	static const char nul[] = "{\"TableName\":\"Orders\"}\0";

	(void)state;
	body_refused("{\"TableName\":\"Orders\",\"TableName\":\"Other\"}", 0,
	    DENIED, "duplicate key in the request body");
	body_refused("{\"TableName\":\"Orders\",\"Key\":{\"a\":{\"S\":\"1\"},"
	    "\"a\":{\"S\":\"2\"}}}", 0, DENIED, "duplicate key in the request "
	    "body");
	body_refused("{\"TableName\":\"Orders\",\"Key\":{\"a\":{\"M\":{\"x\":"
	    "{\"L\":[{\"M\":{\"d\":{\"S\":\"1\"},\"d\":{\"N\":\"2\"}}}]}}}}}", 0,
	    DENIED, "duplicate key");
	/* escapes are decoded before comparing */
	body_refused("{\"TableName\":\"Orders\",\"T\\u0061bleName\":\"Other\"}",
	    0, DENIED, "duplicate key");
	body_refused("{\"TableName\":\"Orders\"} {}", 0, SERIALIZATION,
	    "not valid JSON");
	body_refused("{\"TableName\":\"Orders\"}x", 0, SERIALIZATION,
	    "not valid JSON");
	body_refused(nul, sizeof(nul) - 1, SERIALIZATION, "not valid JSON");
	body_refused("{\"TableName\":\"Ord\xff\"}", 0, SERIALIZATION,
	    "not valid JSON");
	body_refused("{\"TableName\":\"Ord\xc0\xafrs\"}", 0, SERIALIZATION,
	    "not valid JSON");
	body_refused("{\"TableName\":\"Ord\\u0000ers\"}", 0, SERIALIZATION,
	    "not valid JSON");
	body_refused("{\"TableName\":\"\\ud800\"}", 0, SERIALIZATION,
	    "not valid JSON");
	body_refused("{\"TableName\":'Orders'}", 0, SERIALIZATION,
	    "not valid JSON");
	body_refused("[]", 0, SERIALIZATION, "must be a JSON object");
	body_refused("\"x\"", 0, SERIALIZATION, "not valid JSON");
	body_refused("", 0, SERIALIZATION, "not valid JSON");
}

/* \u escapes are decoded as DynamoDB reads them; the name is the resource. */
static void
test_escaped_table_name(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("DescribeTable", "{\"TableName\":\"\\u004Frd\\u0065rs\"}", &out);
	assert_pairs(&out, "dynamodb:DescribeTable " T "Orders");
	classify_result_free(&out);
	ddb_ok("GetItem", "{\"T\\u0061bleName\":\"Orders\",\"Key\":"
	    "{\"customer\\u0049d\":{\"S\":\"\\u00e9\"},\"orderId\":{\"S\":\"o\"}}}",
	    &out);
	assert_pairs(&out, "dynamodb:GetItem " T "Orders");
	assert_string_equal(akey(&out, 0, "dynamodb:LeadingKeys"), "\xc3\xa9");
	classify_result_free(&out);
	ddb_denied("DescribeTable", "{\"TableName\":\"Orders\\u002Findex\\u002FX\"}",
	    "TableName is not a valid table name or table ARN");
	ddb_denied("DescribeTable", "{\"TableName\":\"Or ders\"}",
	    "TableName is not a valid table name");
	ddb_denied("DescribeTable", "{\"TableName\":\"ab\"}",
	    "TableName is not a valid table name");
}

/* A table ARN of another account or region is used as it is. */
static void
test_table_arn_as_is(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("DescribeTable", "{\"TableName\":\"arn:aws:dynamodb:eu-west-1:"
	    "999988887777:table/Foreign\"}", &out);
	assert_pairs(&out, "dynamodb:DescribeTable arn:aws:dynamodb:eu-west-1:"
	    "999988887777:table/Foreign");
	classify_result_free(&out);
	ddb_ok("Query", "{\"TableName\":\"arn:aws-cn:dynamodb:cn-north-1:"
	    "999988887777:table/Foreign\",\"IndexName\":\"Idx9\","
	    "\"KeyConditionExpression\":\"p = :p\",\"ExpressionAttributeValues\":"
	    "{\":p\":{\"S\":\"1\"}}}", &out);
	assert_pairs(&out, "dynamodb:Query arn:aws-cn:dynamodb:cn-north-1:"
	    "999988887777:table/Foreign/index/Idx9");
	classify_result_free(&out);
	ddb_ok("UpdateTable", "{\"TableName\":\"arn:aws:dynamodb:eu-west-1:"
	    "999988887777:table/Foreign\",\"ReplicaUpdates\":[{\"Create\":"
	    "{\"RegionName\":\"us-west-2\"}}]}", &out);
	assert_pairs(&out, "dynamodb:UpdateTable arn:aws:dynamodb:eu-west-1:"
	    "999988887777:table/Foreign\ndynamodb:CreateTableReplica "
	    "arn:aws:dynamodb:us-west-2:999988887777:table/Foreign");
	classify_result_free(&out);
	ddb_denied("DescribeTable", "{\"TableName\":\"arn:aws:s3:::bucket\"}",
	    "TableName is not a table ARN");
	ddb_denied("DescribeTable", "{\"TableName\":\"" T "Orders/index/I\"}",
	    "TableName is not a table ARN");
	ddb_denied("DescribeTable", "{\"TableName\":\"arn:aws:dynamodb:us-east-1:"
	    "1234:table/Orders\"}", "TableName is not a table ARN");
	ddb_denied("DescribeTable", "{\"TableName\":\"arn:aws:dynamodb::"
	    ACCT ":table/Orders\"}", "TableName is not a table ARN");
}

static void
test_wrong_types(void **state)
{
	(void)state;
	ddb_denied("DescribeTable", "{\"TableName\":5}",
	    "TableName must be a string");
	ddb_denied("DescribeTable", "{\"TableName\":null}",
	    "TableName must be a string");
	ddb_denied("DescribeTable", "{}", "TableName is required");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\",\"Key\":\"c1\"}",
	    "Key must be an object");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"}", "Key is required");
	ddb_denied("PutItem", "{\"TableName\":\"Orders\",\"Item\":[]}",
	    "Item must be an object");
	ddb_denied("Query", "{\"TableName\":\"Orders\",\"IndexName\":1}",
	    "IndexName must be a string");
	ddb_denied("Query", "{\"TableName\":\"Orders\",\"IndexName\":\"x\"}",
	    "IndexName is not a valid index name");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":[\"a\"]}",
	    "ProjectionExpression must be a string");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ExpressionAttributeNames\":{\"#a\":1},\"ProjectionExpression\":"
	    "\"#a\"}", "ExpressionAttributeNames must map placeholders to "
	    "strings");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"AttributesToGet\":[1]}", "AttributesToGet must hold strings");
	ddb_denied("PutItem", "{\"TableName\":\"Orders\",\"Item\":{\"customerId\":"
	    "{\"S\":\"c\"}},\"ReturnValues\":\"EVERYTHING\"}",
	    "ReturnValues is not a value the gateway knows");
	ddb_denied("PutItem", "{\"TableName\":\"Orders\",\"Item\":{\"customerId\":"
	    "{\"S\":\"c\"}},\"ReturnConsumedCapacity\":1}",
	    "ReturnConsumedCapacity must be a string");
	ddb_denied("BatchGetItem", "{\"RequestItems\":[]}",
	    "RequestItems must be an object");
	ddb_denied("BatchGetItem", "{\"RequestItems\":{\"Orders\":[]}}",
	    "RequestItems.Orders must be an object");
	ddb_denied("BatchWriteItem", "{\"RequestItems\":{\"Orders\":{}}}",
	    "RequestItems.Orders must be an array");
	ddb_denied("TransactWriteItems", "{\"TransactItems\":[{\"Put\":"
	    "{\"TableName\":7,\"Item\":{}}}]}",
	    "TransactItems[0].Put.TableName must be a string");
	ddb_denied("CreateGlobalTable", "{\"GlobalTableName\":\"Orders\","
	    "\"ReplicationGroup\":[{\"RegionName\":\"Mars\"}]}",
	    "ReplicationGroup[0].RegionName is not a region name");
	{
		struct req r = std_req(SERVICE_STREAMS, "DescribeStream",
		    "{\"StreamArn\":\"" T "Orders\"}");

		refused(&r, DENIED, "StreamArn is not a stream ARN");
	}
	ddb_denied("DeleteBackup", "{\"BackupArn\":\"" STREAM "\"}",
	    "BackupArn is not a backup ARN");
	ddb_denied("RestoreTableToPointInTime", "{\"TargetTableName\":\"T2x\"}",
	    "SourceTableArn or SourceTableName is required");
	ddb_denied("RestoreTableToPointInTime", "{\"SourceTableArn\":\"Orders\","
	    "\"TargetTableName\":\"T2x\"}", "SourceTableArn is not a table ARN");
	ddb_denied("SearchVectors", "{\"TableName\":\"Orders\"}",
	    "IndexName is required");
}

/* Members that differ from a field we read only in case are refused. */
static void
test_case_variant_members(void **state)
{
	(void)state;
	ddb_denied("Query", "{\"TableName\":\"Orders\",\"indexName\":\"I1\","
	    "\"KeyConditionExpression\":\"customerId = :c\","
	    "\"ExpressionAttributeValues\":{\":c\":{\"S\":\"1\"}}}",
	    "member IndexName differs from IndexName only in case");
	ddb_denied("DescribeTable", "{\"TABLENAME\":\"Other\",\"TableName\":"
	    "\"Orders\"}", "differs from TableName only in case");
	ddb_denied("TransactWriteItems", "{\"TransactItems\":[{\"put\":"
	    "{\"TableName\":\"Orders\",\"Item\":{}}}]}",
	    "TransactItems[0]: member Put differs");
	ddb_denied("TransactWriteItems", "{\"TransactItems\":[{\"Put\":"
	    "{\"TableName\":\"Orders\",\"tableName\":\"Other\",\"Item\":{}}}]}",
	    "TransactItems[0].Put: member TableName differs");
}

static void
test_expressions(void **state)
{
	(void)state;
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":\"#a\"}", "ProjectionExpression uses a "
	    "placeholder that ExpressionAttributeNames does not define");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":\"a.#b\",\"ExpressionAttributeNames\":"
	    "{\"#a\":\"x\"}}", "does not define");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":\"a b\"}", "cannot read "
	    "ProjectionExpression");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":\"a.\"}", "cannot read");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":\".a\"}", "cannot read");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":\"a[x]\"}", "cannot read");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":\"1a\"}", "cannot read");
	ddb_denied("GetItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"ProjectionExpression\":\"a; b\"}", "cannot read");
	ddb_denied("PutItem", "{\"TableName\":\"Orders\",\"Item\":{\"customerId\":"
	    "{\"S\":\"c\"}},\"ConditionExpression\":\"evil(a)\"}",
	    "cannot read ConditionExpression");
	ddb_denied("UpdateItem", "{\"TableName\":\"Orders\"," GKEY
	    ",\"UpdateExpression\":\"SET a = :v, #\"}",
	    "cannot read UpdateExpression");
	ddb_denied("Scan", "{\"TableName\":\"Orders\",\"FilterExpression\":"
	    "\"a = 'x'\"}", "cannot read FilterExpression");
}

/* Refusals name tables and fields, never item values. */
static void
test_messages_without_values(void **state)
{
	(void)state;
	ddb_denied("GetItem", "{\"TableName\":\"Orders\",\"Key\":{\"customerId\":"
	    "{\"BOOL\":true},\"orderId\":{\"S\":\"secret-value\"}}}",
	    "partition key");
	assert_null(strstr(why.message, "secret"));
	ddb_denied("GetItem", "{\"TableName\":\"Orders\",\"Key\":{\"orderId\":"
	    "{\"S\":\"secret-value\"}}}", "partition key");
	assert_null(strstr(why.message, "secret"));
	assert_null(strstr(why.message, "orderId"));
}

/*
 * Without account or principals a name becomes an ARN with an empty
 * account segment, and the result says so (enforce.c refuses when the
 * policy's decision could depend on the account).
 */
static void
test_unknown_account(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "DescribeTable",
	    "{\"TableName\":\"Orders\"}");
	struct classify_result out;

	(void)state;
	r.cfg = cfg_no_account;
	r.key = KEY2;
	ok(&r, &out);
	assert_true(out.account_unknown);
	assert_pairs(&out, "dynamodb:DescribeTable "
	    "arn:aws:dynamodb:us-east-1::table/Orders");
	classify_result_free(&out);
	r.body = "{\"TableName\":\"" T "Orders\"}";
	ok(&r, &out);
	assert_false(out.account_unknown);
	assert_pairs(&out, "dynamodb:DescribeTable " T "Orders");
	classify_result_free(&out);
	r.body = "{}";
	r.target = "DynamoDB_20120810.ListTables";
	ok(&r, &out);
	assert_false(out.account_unknown);
	classify_result_free(&out);
	r = std_req(SERVICE_DAX_CLUSTER, "x", "{}");
	r.cfg = cfg_no_account;
	refused(&r, DENIED, "not an HTTP API");
}

static void
test_shard_iterator(void **state)
{
	static const char *const bad[] = {
		"{\"ShardIterator\":\"AAAAAAAAAAEvJp6D\"}",
		"{\"ShardIterator\":\"" STREAM "\"}",
		"{\"ShardIterator\":\"" STREAM "|1\"}",
		"{\"ShardIterator\":\"" STREAM "||x\"}",
		"{\"ShardIterator\":\"" STREAM "|1|\"}",
		"{\"ShardIterator\":\"" STREAM "|a|x\"}",
		"{\"ShardIterator\":\"" T "Orders|1|x\"}",
		"{\"ShardIterator\":\"" T "Orders/stream/2015-05-20|1|x\"}",
		"{\"ShardIterator\":\"x" STREAM "|1|x\"}",
	};
	struct req r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = std_req(SERVICE_STREAMS, "GetRecords", bad[i]);
		refused(&r, DENIED, "cannot read the stream ARN of the "
		    "ShardIterator");
	}
	r = std_req(SERVICE_STREAMS, "GetRecords", "{\"ShardIterator\":7}");
	refused(&r, DENIED, "ShardIterator must be a string");
}

static void
test_dax_names(void **state)
{
	struct req r;

	(void)state;
	r = std_req(SERVICE_DAX, "DeleteCluster", "{\"ClusterName\":\"1abc\"}");
	refused(&r, DENIED, "ClusterName is not a valid cluster name");
	r = std_req(SERVICE_DAX, "DeleteCluster", "{\"ClusterName\":\"a--b\"}");
	refused(&r, DENIED, "ClusterName is not a valid cluster name");
	r = std_req(SERVICE_DAX, "DeleteCluster", "{\"ClusterName\":\"ab-\"}");
	refused(&r, DENIED, "ClusterName is not a valid cluster name");
	r = std_req(SERVICE_DAX, "ListTags", "{\"ResourceName\":\"cache1\"}");
	refused(&r, DENIED, "ResourceName is not a DAX cluster ARN");
	r = std_req(SERVICE_DAX, "ListTags", "{\"ResourceName\":\"" T
	    "Orders\"}");
	refused(&r, DENIED, "ResourceName is not a DAX cluster ARN");
	{
		struct classify_result out;

		r = std_req(SERVICE_DAX, "ListTags", "{\"ResourceName\":\""
		    CACHE "MyCache\"}");
		ok(&r, &out);
		/* lower case as DAX stores it, and as written: both */
		assert_pairs(&out, "dax:ListTags " CACHE "mycache\n"
		    "dax:ListTags " CACHE "MyCache");
		classify_result_free(&out);
	}
}

static void
test_optional_table_arn(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("ListExports", "{}", &out);
	assert_pairs(&out, "dynamodb:ListExports *");
	classify_result_free(&out);
	ddb_ok("ListImports", "{\"TableArn\":\"" T "Orders\"}", &out);
	assert_pairs(&out, "dynamodb:ListImports " T "Orders");
	classify_result_free(&out);
	ddb_denied("ListExports", "{\"TableArn\":\"Orders\"}",
	    "TableArn is not a table ARN");
	ddb_ok("DescribeContributorInsights", "{\"TableName\":\"Orders\"}",
	    &out);
	assert_pairs(&out, "dynamodb:DescribeContributorInsights " T "Orders");
	classify_result_free(&out);
	ddb_ok("UpdateContributorInsights", "{\"TableName\":\"Orders\","
	    "\"IndexName\":\"ByDate\",\"ContributorInsightsAction\":\"DISABLE\"}",
	    &out);
	assert_pairs(&out, "dynamodb:UpdateContributorInsights " T
	    "Orders/index/ByDate");
	classify_result_free(&out);
	ddb_ok("RestoreTableToPointInTime", "{\"SourceTableArn\":\"" T1
	    "Orders\",\"TargetTableName\":\"Copy\"}", &out);
	assert_pairs(&out, "dynamodb:RestoreTableToPointInTime " T1 "Orders\n"
	    "dynamodb:RestoreTableToPointInTime " T "Copy");
	classify_result_free(&out);
}

static int
setup(void **state)
{
	char err[CONFIG_ERR_MAX];

	(void)state;
	cfg = config_load_buffer("t.yaml", config_yaml, strlen(config_yaml),
	    err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	cfg_no_account = config_load_buffer("n.yaml", config_no_account_yaml,
	    strlen(config_no_account_yaml), err, sizeof(err));
	if (cfg_no_account == NULL)
		fail_msg("%s", err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	config_free(cfg);
	config_free(cfg_no_account);
	return 0;
}

/* Bypass review finding 7: case variants inside legacy condition maps. */
static void
test_regression_key_conditions_case_variants(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "Query",
	    "{\"TableName\":\"Orders\",\"KeyConditions\":{\"customerId\":"
	    "{\"ComparisonOperator\":\"EQ\",\"AttributeValueList\":[{\"S\":"
	    "\"alice\"}],\"attributeValueList\":[{\"S\":\"bob\"}]}}}");

	(void)state;
	refused(&r, DENIED, "KeyConditions");
}

/*
 * Bypass review finding 1: an access key that `principals` does not map
 * is judged in its own account (decoded from the key, spec 3.4), not in
 * `account`, so a caller cannot reach a same-named table of its own.
 */
static void
test_regression_unmapped_key_uses_its_own_account(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "DescribeTable",
	    "{\"TableName\":\"Orders\"}");
	struct classify_result out;

	(void)state;
	r.key = "ASIAY34FZKBOKMUTVV7A"; /* decodes to account 609629065308 */
	ok(&r, &out);
	assert_pairs(&out, "dynamodb:DescribeTable "
	    "arn:aws:dynamodb:us-east-1:609629065308:table/Orders");
	assert_string_equal(akey(&out, 0, "aws:ResourceAccount"),
	    "609629065308");
	assert_string_equal(rkey(&out, "aws:PrincipalAccount"), "609629065308");
	classify_result_free(&out);
}

/* Bypass review finding 4: tag keys repeated, even in another case. */
static void
test_regression_repeated_tag_keys_refused(void **state)
{
	struct req r = std_req(SERVICE_DYNAMODB, "TagResource",
	    "{\"ResourceArn\":\"" T "Orders\",\"Tags\":[{\"Key\":\"ENV\","
	    "\"Value\":\"dev\"},{\"Key\":\"env\",\"Value\":\"prod\"}]}");

	(void)state;
	refused(&r, DENIED, "tag key repeated");
}

/* Bypass review finding 6: ALL_OLD on condition failure returns the old
 * item: ReturnValues and Attributes are then unknown, never guessed. */
static void
test_regression_return_old_on_condition_failure(void **state)
{
	struct classify_result out;

	(void)state;
	ddb_ok("UpdateItem", "{\"TableName\":\"Orders\"," GKEY ","
	    "\"UpdateExpression\":\"SET #s = :s\",\"ExpressionAttributeNames\":"
	    "{\"#s\":\"status\"},\"ExpressionAttributeValues\":{\":s\":{\"S\":"
	    "\"x\"}},\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}", &out);
	assert_true(is_unknown(&out, 0, "dynamodb:ReturnValues"));
	assert_true(is_unknown(&out, 0, "dynamodb:Attributes"));
	classify_result_free(&out);
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_operation_table),
	cmocka_unit_test(test_getitem_keys),
	cmocka_unit_test(test_leading_keys_types),
	cmocka_unit_test(test_leading_keys_unknown),
	cmocka_unit_test(test_write_keys),
	cmocka_unit_test(test_query_keys),
	cmocka_unit_test(test_scan_keys),
	cmocka_unit_test(test_batch_mixing_tables),
	cmocka_unit_test(test_transact_keys),
	cmocka_unit_test(test_partiql_full_table_scan),
	cmocka_unit_test(test_partiql_unknown_scan_flag),
	cmocka_unit_test(test_partiql_identifiers),
	cmocka_unit_test(test_partiql_verbs),
	cmocka_unit_test(test_partiql_transaction),
	cmocka_unit_test(test_partiql_refusals),
	cmocka_unit_test(test_tag_keys),
	cmocka_unit_test(test_request_keys),
	cmocka_unit_test(test_source_ip_v6),
	cmocka_unit_test(test_policy_request),
	cmocka_unit_test(test_unknown_target),
	cmocka_unit_test(test_repeated_target),
	cmocka_unit_test(test_content_type),
	cmocka_unit_test(test_authorization),
	cmocka_unit_test(test_missing_authorization),
	cmocka_unit_test(test_request_time),
	cmocka_unit_test(test_scope),
	cmocka_unit_test(test_query_string),
	cmocka_unit_test(test_dax_cluster_service),
	cmocka_unit_test(test_user_agent),
	cmocka_unit_test(test_body_json),
	cmocka_unit_test(test_escaped_table_name),
	cmocka_unit_test(test_table_arn_as_is),
	cmocka_unit_test(test_wrong_types),
	cmocka_unit_test(test_case_variant_members),
	cmocka_unit_test(test_expressions),
	cmocka_unit_test(test_messages_without_values),
	cmocka_unit_test(test_unknown_account),
	cmocka_unit_test(test_regression_unmapped_key_uses_its_own_account),
	cmocka_unit_test(test_regression_key_conditions_case_variants),
	cmocka_unit_test(test_regression_repeated_tag_keys_refused),
	cmocka_unit_test(test_regression_return_old_on_condition_failure),
	cmocka_unit_test(test_shard_iterator),
	cmocka_unit_test(test_dax_names),
	cmocka_unit_test(test_optional_table_arn),
};

int
main(void)
{
	const size_t nfixed = sizeof(fixed_tests) / sizeof(fixed_tests[0]);
	struct CMUnitTest *tests;
	static char names[NCASES][96];
	size_t i;
	int rv;

	/* one named test per operation, then the fixed ones */
	tests = calloc(NCASES + nfixed, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (i = 0; i < NCASES; i++) {
		snprintf(names[i], sizeof(names[i]), "op_%s_%s",
		    prefix_of(op_cases[i].service), op_cases[i].op);
		tests[i].name = names[i];
		tests[i].test_func = test_operation;
		tests[i].initial_state = (void *)(uintptr_t)&op_cases[i];
	}
	memcpy(tests + NCASES, fixed_tests, sizeof(fixed_tests));
	rv = _cmocka_run_group_tests("classify", tests, NCASES + nfixed, setup,
	    teardown);
	free(tests);
	return rv;
}
