/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A parsed SIP message: views into the caller's buffer, nothing copied,
 * nothing allocated. Everything here is valid as long as the buffer is.
 *
 * Return conventions (STYLE rule 3):
 *   spr_sip_parse()          bytes consumed / -EAGAIN / -EBADMSG (msg->err says why)
 *   spr_sip_uri_parse()      0 / -EBADMSG
 *   spr_sip_aor_normalize()  bytes written / -EINVAL / -ENOSPC
 */
#ifndef SPR_SIP_MSG_H
#define SPR_SIP_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include <spr/str.h>

/* Compile-time ceilings; struct spr_sip_limits sets the runtime caps below them. */
#define SPR_SIP_MSG_MAX 65535u     /* largest datagram parsed (RFC 3261 §18.1.1 UDP) */
#define SPR_SIP_VIA_MAX 64u        /* Via header fields kept for the response (RFC 4475 longreq has 34) */
#define SPR_SIP_CONTACT_MAX 32u    /* contact-params in one request */
#define SPR_SIP_HLIST_MAX 8u       /* fields of one list header (Supported, Route …) */

#define SPR_SIP_Q_NONE 0xffffu /* q absent; q is stored in thousandths, 0..1000 */

/*
 * Parse faults: enum, SIP status and reason phrase generated together
 * (STYLE rule 5). The reason phrase is what the client reads in the 400.
 */
#define SPR_FOREACH_SIP_ERR(X)                                                                     \
	X(NONE, 0, "OK")                                                                           \
	X(TRUNCATED, 400, "Incomplete Header Section")                                             \
	X(TOO_LARGE, 513, "Message Too Large")                                                     \
	X(BAD_START_LINE, 400, "Malformed Start Line")                                             \
	X(BAD_METHOD, 400, "Malformed Method")                                                     \
	X(BAD_RURI, 400, "Malformed Request-URI")                                                  \
	X(BAD_VERSION, 505, "Version Not Supported")                                               \
	X(BAD_STATUS, 400, "Malformed Status Line")                                                \
	X(BAD_HEADER_LINE, 400, "Malformed Header Line")                                           \
	X(TOO_MANY_HEADERS, 400, "Too Many Headers")                                               \
	X(TOO_MANY_VIAS, 400, "Too Many Via Headers")                                              \
	X(TOO_MANY_CONTACTS, 400, "Too Many Contacts")                                             \
	X(TOO_MANY_FIELDS, 400, "Too Many Header Fields Of One Kind")                              \
	X(BAD_VIA, 400, "Malformed Via")                                                           \
	X(BAD_FROM, 400, "Malformed From")                                                         \
	X(BAD_TO, 400, "Malformed To")                                                             \
	X(BAD_CALL_ID, 400, "Malformed Call-ID")                                                   \
	X(BAD_CSEQ, 400, "Malformed CSeq")                                                         \
	X(CSEQ_RANGE, 400, "Sequence Number Out Of Range")                                         \
	X(CSEQ_METHOD, 400, "Sequence Method Does Not Match Request")                              \
	X(BAD_CONTACT, 400, "Malformed Contact")                                                   \
	X(BAD_Q, 400, "Invalid q Value")                                                           \
	X(BAD_CONTACT_EXPIRES, 400, "Invalid Contact expires Parameter")                           \
	X(BAD_REG_ID, 400, "Invalid reg-id Parameter")                                             \
	X(BAD_EXPIRES, 400, "Malformed Expires")                                                   \
	X(BAD_MIN_EXPIRES, 400, "Malformed Min-Expires")                                           \
	X(BAD_MAX_FORWARDS, 400, "Malformed Max-Forwards")                                         \
	X(BAD_CONTENT_LENGTH, 400, "Malformed Content-Length")                                     \
	X(BODY_TOO_SHORT, 400, "Content-Length Larger Than Message")                               \
	X(BAD_CONTENT_TYPE, 400, "Malformed Content-Type")                                         \
	X(BAD_EVENT, 400, "Malformed Event")                                                       \
	X(BAD_AUTHORIZATION, 400, "Malformed Authorization")                                       \
	X(BAD_PATH, 400, "Malformed Path")                                                         \
	X(DUP_FROM, 400, "Duplicate From")                                                         \
	X(DUP_TO, 400, "Duplicate To")                                                             \
	X(DUP_CALL_ID, 400, "Duplicate Call-ID")                                                   \
	X(DUP_CSEQ, 400, "Duplicate CSeq")                                                         \
	X(DUP_MAX_FORWARDS, 400, "Duplicate Max-Forwards")                                         \
	X(DUP_CONTENT_LENGTH, 400, "Duplicate Content-Length")                                     \
	X(DUP_CONTENT_TYPE, 400, "Duplicate Content-Type")                                         \
	X(DUP_EXPIRES, 400, "Duplicate Expires")                                                   \
	X(DUP_EVENT, 400, "Duplicate Event")                                                       \
	X(DUP_AUTHORIZATION, 400, "Duplicate Authorization")                                       \
	X(MISSING_VIA, 400, "Missing Via")                                                         \
	X(MISSING_FROM, 400, "Missing From")                                                       \
	X(MISSING_TO, 400, "Missing To")                                                           \
	X(MISSING_CALL_ID, 400, "Missing Call-ID")                                                 \
	X(MISSING_CSEQ, 400, "Missing CSeq")

enum spr_sip_err {
#define X(name, code, reason) SPR_SIP_ERR_##name,
	SPR_FOREACH_SIP_ERR(X)
#undef X
		SPR_SIP_ERR__COUNT
};

/* SIP status and reason phrase of a parse fault. */
uint16_t spr_sip_err_code(enum spr_sip_err e);
const char *spr_sip_err_reason(enum spr_sip_err e);
const char *spr_sip_err_name(enum spr_sip_err e);

enum spr_sip_method {
	SPR_SIP_UNKNOWN = 0,
	SPR_SIP_REGISTER,
	SPR_SIP_INVITE,
	SPR_SIP_ACK,
	SPR_SIP_BYE,
	SPR_SIP_CANCEL,
	SPR_SIP_OPTIONS,
	SPR_SIP_SUBSCRIBE,
	SPR_SIP_NOTIFY,
	SPR_SIP_PUBLISH,
	SPR_SIP_MESSAGE,
	SPR_SIP_INFO,
	SPR_SIP_PRACK,
	SPR_SIP_UPDATE,
	SPR_SIP_REFER,
	SPR_SIP_METHOD__COUNT
};

enum spr_sip_scheme {
	SPR_URI_OTHER = 0, /* absoluteURI of some other scheme: only raw/scheme are set */
	SPR_URI_SIP,
	SPR_URI_SIPS,
	SPR_URI_TEL,
};

/* RFC 3261 §19.1.1 SIP-URI; for other schemes only raw and scheme are filled. */
struct spr_sip_uri {
	struct spr_str raw;      /* the whole URI, exact bytes */
	struct spr_str scheme;   /* without ':' */
	struct spr_str user;     /* as written, escapes kept; empty when absent */
	struct spr_str password; /* after ':' in userinfo */
	struct spr_str host;     /* as written; IPv6 references keep their [] */
	struct spr_str params;   /* after the first ';' up to '?', without the ';' */
	struct spr_str headers;  /* after '?', without the '?' */
	uint16_t port;           /* 0 when absent */
	uint8_t scheme_id;       /* enum spr_sip_scheme */
	uint8_t has_user : 1;    /* '@' was present */
};

/* name-addr / addr-spec with header parameters (From, To, Contact). */
struct spr_sip_nameaddr {
	struct spr_str raw;     /* this value (one contact-param), exact bytes, trimmed */
	struct spr_str display; /* as written, quotes kept; empty when absent */
	struct spr_sip_uri uri;
	struct spr_str params; /* header params after the URI, without the first ';' */
	struct spr_str tag;    /* value of ;tag= */
	uint8_t has_tag : 1;
};

#define SPR_CONTACT_HAS_EXPIRES 0x1u
#define SPR_CONTACT_HAS_REG_ID 0x2u

struct spr_sip_contact {
	struct spr_sip_nameaddr na;
	struct spr_str instance; /* +sip.instance value as written (quotes kept) */
	uint32_t expires;        /* valid with SPR_CONTACT_HAS_EXPIRES; clamped to 2^32-1 */
	uint32_t reg_id;         /* valid with SPR_CONTACT_HAS_REG_ID */
	uint16_t q;              /* thousandths, or SPR_SIP_Q_NONE */
	uint16_t flags;
};

struct spr_sip_via {
	struct spr_str raw;       /* first via-parm of the top Via field, exact bytes */
	struct spr_str transport; /* UDP, TCP, TLS, SCTP, WS … */
	struct spr_str host;
	struct spr_str branch;
	struct spr_str received;
	uint16_t port;      /* 0 when absent */
	uint16_t rport_val; /* value of rport=N when given */
	uint8_t has_rport : 1;
	uint8_t has_rport_val : 1;
};

/* Every field of one list-valued header, in order (Supported, Require, Route …). */
struct spr_sip_hlist {
	uint8_t n;
	struct spr_str v[SPR_SIP_HLIST_MAX]; /* field values, trimmed */
};

/* Runtime caps, each at most its compile-time ceiling. */
struct spr_sip_limits {
	uint32_t max_msg;      /* bytes, <= SPR_SIP_MSG_MAX */
	uint16_t max_headers;  /* header fields in total */
	uint16_t max_vias;     /* <= SPR_SIP_VIA_MAX */
	uint16_t max_contacts; /* <= SPR_SIP_CONTACT_MAX */
	/*
	 * Testing knob, 0 in production: nonzero parses every value with the
	 * general code only, skipping the fast paths for the common shapes, so a
	 * test can check that both give the same verdict and the same fields.
	 */
	uint8_t no_fast_path;
	/*
	 * Optional (NULL: the parser checks a Bearer token itself): a scanner
	 * that returns the first octet of [p, e) outside b64token (RFC 6750
	 * §2.1), e when none, exactly as the parser's own check would, and
	 * leaves a value computed over all of [p, e) in poly (msg.bearer_poly);
	 * or NULL when it does not scan these octets (the parser then does).
	 * The token cache's (include/spr/auth_hook.h "scan"): the token's
	 * fingerprint starts in the same pass.
	 */
	const char *(*bearer_scan)(const void *ctx, const char *p, const char *e, uint64_t poly[2]);
	const void *bearer_scan_ctx;
};

void spr_sip_limits_default(struct spr_sip_limits *lim);

struct spr_sip_msg {
	/* start line */
	uint8_t is_request : 1;
	uint8_t start_ok : 1; /* the start line parsed (is_request is meaningful) */
	uint8_t method;       /* enum spr_sip_method */
	uint16_t status;      /* responses */
	struct spr_str method_str;
	struct spr_sip_uri ruri;
	struct spr_str reason;

	/* first fault seen; parsing goes on past a bad header so a 400 can be built */
	uint8_t err; /* enum spr_sip_err */
	struct spr_str err_header; /* name of the header that failed, when one did */

	uint16_t n_headers;
	uint16_t n_unknown; /* headers not modelled here, skipped */

	/* Via: every field value, and the top via-parm parsed */
	uint8_t n_via_fields;
	struct spr_str via_fields[SPR_SIP_VIA_MAX];
	struct spr_sip_via via;

	struct spr_sip_nameaddr from, to;
	struct spr_str call_id;
	struct spr_str cseq_method;
	uint32_t cseq;
	uint8_t cseq_method_id; /* enum spr_sip_method */

	uint8_t contact_star : 1;   /* a Contact: * was present */
	uint8_t n_contact_fields;   /* Contact header fields */
	uint16_t n_contacts;        /* contact-params, star not counted */
	struct spr_sip_contact contacts[SPR_SIP_CONTACT_MAX];

	uint8_t has_expires : 1, has_min_expires : 1, has_max_forwards : 1, has_content_length : 1;
	uint32_t expires;     /* clamped to 2^32-1 */
	uint32_t min_expires;
	uint32_t max_forwards; /* 0..255 */
	uint32_t content_length;

	struct spr_str content_type; /* full value, trimmed */
	struct spr_str media_type;   /* type/subtype only */
	struct spr_str event;        /* event package */
	struct spr_str event_id;     /* ;id= */
	struct spr_str auth_scheme;  /* Authorization scheme */
	struct spr_str auth_params;  /* after the scheme (for Bearer: the token) */
	struct spr_str bearer;       /* the token when the scheme is Bearer */
	uint32_t bearer_poly_len;    /* octets of bearer bearer_scan's value covers; 0: none */
	uint64_t bearer_poly[2];     /* that value */
	struct spr_str sip_if_match;
	struct spr_str sip_etag;
	struct spr_str subscription_state;
	struct spr_str user_agent;
	struct spr_str date;

	struct spr_sip_hlist accept, supported, require, proxy_require, path, route, record_route;

	struct spr_str body;
};

/*
 * Parse one SIP message from buf[0..len). One pass, zero copy, never reads
 * at or past buf + len.
 *
 * Returns the bytes the message occupies (CRLFs before the start line,
 * start line, headers and Content-Length body; bytes after it are not part
 * of it), -EAGAIN (msg->err = TRUNCATED) when no empty line ends the header
 * section within len, or -EBADMSG with msg->err set. -EBADMSG wins over
 * -EAGAIN once a complete line held a fault or len exceeds max_msg. After
 * -EBADMSG, every field parsed is still valid, so the caller can answer a
 * request with spr_sip_err_code(msg->err).
 *
 * via_fields holds one entry per via-parm (a comma list counts as several,
 * RFC 3261 §7.3.1); a via-parm that fails to parse is kept as written so the
 * 400 can still carry it.
 */
int spr_sip_parse(const char *buf, uint32_t len, const struct spr_sip_limits *lim,
		  struct spr_sip_msg *msg);

/* Parse one URI written exactly in p[0..len). 0 or -EBADMSG. */
int spr_sip_uri_parse(const char *p, uint32_t len, struct spr_sip_uri *u);

/* RFC 3261 §19.1.4 equality of two SIP or SIPS URIs (others compare bytes). */
bool spr_sip_uri_eq(const struct spr_sip_uri *a, const struct spr_sip_uri *b);

/*
 * RFC 3261 §10.3 step 5: the canonical address-of-record of a SIP/SIPS URI,
 * written as "user@host[:port]": URI parameters and headers removed, escapes
 * in the user part decoded, host lower-cased. Returns bytes written, -EINVAL
 * for a URI that cannot be an AOR (other scheme, no user), -ENOSPC.
 */
int spr_sip_aor_normalize(const struct spr_sip_uri *u, char *out, uint32_t cap);

/* Value of parameter name in a ';'-separated list (name case-insensitive). */
bool spr_sip_param_get(const struct spr_str *params, const char *name, uint32_t name_len,
		       struct spr_str *value);

/* Whether a comma-separated token list header holds token (case-insensitive). */
bool spr_sip_hlist_has(const struct spr_sip_hlist *l, const char *tok, uint32_t tok_len);

/*
 * First token of the list that is not among the nknown entries of known[];
 * returns true and sets *out when there is one (RFC 3261 §8.2.2.3 Require).
 */
bool spr_sip_hlist_first_unknown(const struct spr_sip_hlist *l, const struct spr_str *known,
				 uint32_t nknown, struct spr_str *out);

const char *spr_sip_method_name(enum spr_sip_method m);

#endif /* SPR_SIP_MSG_H */
