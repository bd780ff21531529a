/*
 * proxy_error — see proxy_error.h. Status and Proxy-Status types follow
 * RFC 9209 section 2.3; the body shape follows DynamoDB's errors (spec 2.3).
 */
#include <stdio.h>
#include <string.h>

#include "proxy_error.h"

struct error_row {
	int status;
	const char *name;
	const char *type;
};

static const struct error_row rows[PE_KIND_COUNT] = {
	[PE_BAD_REQUEST] = { 400, "BadRequest", "http_request_error" },
	[PE_METHOD_NOT_ALLOWED] = { 405, "MethodNotAllowed",
	    "http_request_error" },
	[PE_REQUEST_TIMEOUT] = { 408, "RequestTimeout", "http_request_error" },
	[PE_LENGTH_REQUIRED] = { 411, "LengthRequired", "http_request_error" },
	[PE_BODY_TOO_LARGE] = { 413, "RequestEntityTooLarge",
	    "http_request_error" },
	[PE_MISDIRECTED] = { 421, "MisdirectedRequest", "http_request_denied" },
	[PE_HEADERS_TOO_LARGE] = { 431, "RequestHeaderFieldsTooLarge",
	    "http_request_error" },
	[PE_EXPECTATION_FAILED] = { 417, "ExpectationFailed",
	    "http_request_error" },
	[PE_FORBIDDEN] = { 403, "Forbidden", "http_request_denied" },
	[PE_PROXY_AUTH] = { 407, "ProxyAuthenticationRequired",
	    "http_request_denied" },
	[PE_INTERNAL] = { 500, "InternalError", "proxy_internal_error" },
	[PE_OVERLOADED] = { 503, "ServiceUnavailable",
	    "proxy_internal_error" },
	[PE_DNS_ERROR] = { 502, "DnsError", "dns_error" },
	[PE_DNS_TIMEOUT] = { 504, "DnsTimeout", "dns_timeout" },
	[PE_DESTINATION_PROHIBITED] = { 502, "DestinationIpProhibited",
	    "destination_ip_prohibited" },
	[PE_CONNECTION_REFUSED] = { 502, "ConnectionRefused",
	    "connection_refused" },
	[PE_CONNECTION_TIMEOUT] = { 504, "ConnectionTimeout",
	    "connection_timeout" },
	[PE_DESTINATION_UNAVAILABLE] = { 502, "DestinationUnavailable",
	    "destination_unavailable" },
	[PE_TLS_PROTOCOL] = { 502, "TlsProtocolError", "tls_protocol_error" },
	[PE_TLS_CERTIFICATE] = { 502, "TlsCertificateError",
	    "tls_certificate_error" },
	[PE_CONNECTION_TERMINATED] = { 502, "ConnectionTerminated",
	    "connection_terminated" },
	[PE_RESPONSE_TIMEOUT] = { 504, "ResponseTimeout",
	    "http_response_timeout" },
	[PE_UPSTREAM_PROTOCOL] = { 502, "UpstreamProtocolError",
	    "http_protocol_error" },
};

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "Error";
}

int
proxy_error_status(enum proxy_error_kind kind)
{
	return rows[kind].status;
}

const char *
proxy_error_name(enum proxy_error_kind kind)
{
	return rows[kind].name;
}

const char *
proxy_error_type(enum proxy_error_kind kind)
{
	return rows[kind].type;
}

size_t
proxy_error_json_escape(char *dst, size_t dstlen, const char *message)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)message; *p; p++) {
		char esc[7];
		size_t elen;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			elen = 2;
		} else if (*p < 0x20 || *p >= 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			elen = 6;
		} else {
			esc[0] = (char)*p;
			elen = 1;
		}
		if (n + elen >= dstlen)
			return 0;
		memcpy(dst + n, esc, elen);
		n += elen;
	}
	if (dstlen > 0)
		dst[n] = '\0';
	return n;
}

/*
 * The one response writer: a DynamoDB-shaped JSON error with every field
 * an SDK reads and the Proxy-Status a tool reads.
 */
static size_t
format_response(char *buf, size_t buflen, int status, const char *type,
    const char *message_key, const char *message, const char *request_id,
    const char *proxy_status, const char *content_type, int close)
{
	char escaped[6 * 1024 + 1], body[6 * 1024 + 256];
	int blen, n;

	if (proxy_error_json_escape(escaped, sizeof(escaped), message) == 0 &&
	    message[0] != '\0')
		return 0;
	blen = snprintf(body, sizeof(body), "{\"__type\":\"%s\",\"%s\":\"%s\"}",
	    type, message_key, escaped);
	if (blen < 0 || (size_t)blen >= sizeof(body))
		return 0;
	n = snprintf(buf, buflen,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "x-amzn-RequestId: %s\r\n"
	    "Proxy-Status: ddbgate; error=%s\r\n"
	    "Content-Length: %d\r\n"
	    "%s%s"
	    "\r\n%s",
	    status, reason_phrase(status), content_type, request_id,
	    proxy_status, blen, status == 407 ? "Proxy-Authenticate: Basic "
	    "realm=\"ddbgate\", charset=\"UTF-8\"\r\n" : "",
	    close ? "Connection: close\r\n" : "", body);
	if (n < 0 || (size_t)n >= buflen)
		return 0;
	return (size_t)n;
}

size_t
proxy_error_format(char *buf, size_t buflen, enum proxy_error_kind kind,
    const char *message, const char *request_id, int close)
{
	const struct error_row *row = &rows[kind];
	char type[64];

	snprintf(type, sizeof(type), "ddbgate#%s", row->name);
	return format_response(buf, buflen, row->status, type, "message",
	    message, request_id, row->type, "application/x-amz-json-1.0",
	    close);
}

size_t
proxy_error_format_aws(char *buf, size_t buflen, const char *type,
    const char *message, const char *content_type, const char *request_id,
    int close)
{
	/* Front-end errors spell it "Message" (spec 2.3); SDKs read both. */
	return format_response(buf, buflen, 400, type, "Message", message,
	    request_id, "http_request_denied", content_type, close);
}
