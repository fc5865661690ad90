/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PIDF (RFC 3863) with the data model (RFC 4479), RPID (RFC 4480) and
 * service capabilities (RFC 5196): parse a PUBLISH body into a status,
 * compose the publications of one presentity, map statuses to and from the
 * user state model, and build the document every watcher is sent.
 *
 * The only libxml2 user of sprd (DESIGN §7). Parsing is hostile-input safe:
 * the size is capped before libxml2 sees a byte; any DOCTYPE stops the
 * parser where it starts (no DTD, so no entity can be declared, expanded or
 * loaded: billion laughs and XXE end there); no network, no XInclude;
 * nesting is capped while parsing. Errors never print: they come back as a
 * fault and a why text.
 *
 * Return conventions (STYLE rule 3):
 *   spr_pidf_parse()                enum spr_pidf_fault (SPR_PIDF_OK = 0)
 *   spr_pidf_build*()               bytes written / -ENOSPC / -EINVAL / -ENOMEM
 *   spr_pidf_compose(), spr_pidf_from_state()   0 / -errno
 *
 * Context: any thread. Every call has its own parser context; libxml2 is
 * initialised once (pthread_once) by the first call. Nothing here keeps
 * state between calls.
 */
#ifndef SPR_PIDF_H
#define SPR_PIDF_H

#include <stddef.h>
#include <stdint.h>

#include "pidf-t.h"

uint16_t spr_pidf_fault_code(enum spr_pidf_fault f);
const char *spr_pidf_fault_reason(enum spr_pidf_fault f);
const char *spr_pidf_fault_name(enum spr_pidf_fault f);

void spr_pidf_limits_default(struct spr_pidf_limits *lim);

/*
 * Parse a PIDF document of len bytes (no NUL needed) into out.
 * lim NULL: defaults. On a fault, why (if whylen > 0) gets a NUL-terminated
 * explanation ("line 3 col 12: ..." for libxml2's errors; at most 40 bytes
 * of the document quoted; no control characters, so it is safe for a log
 * line or a Warning header) and out is undefined; on success why is "".
 * Elements are matched by (namespace URI, local name); unknown elements and
 * attributes are skipped (RFC 3863 §4.1.6 extensibility). Only the five
 * predefined entities and character references are accepted. Of repeated
 * elements (note in several languages, a second person) the first is kept;
 * text is trimmed of XML white space.
 */
enum spr_pidf_fault spr_pidf_parse(const char *doc, uint32_t len, const struct spr_pidf_limits *lim,
				   struct spr_pidf_status *out, char *why, uint32_t whylen);

/* Bytes of st that a read-only copy needs (header + used text). */
static inline size_t
spr_pidf_status_size(const struct spr_pidf_status *st)
{
	return offsetof(struct spr_pidf_status, text) + st->text_used;
}

/* The text a ref names, as a view into st (valid while st is). */
static inline struct spr_str
spr_pidf_str(const struct spr_pidf_status *st, struct spr_pidf_ref r)
{
	return (struct spr_str){st->text + r.off, r.len};
}

/* An empty status: no tuples, no person. */
void spr_pidf_status_init(struct spr_pidf_status *st);

/*
 * Compose the publications of one presentity (one per device or ETag),
 * given oldest first, into out (DESIGN §5 "aggregated view"):
 *  - every tuple of every publication, open ones first (stable), so a
 *    watcher that reads only the first tuple sees open when any device is;
 *    a tuple id already taken gets "-2", "-3" ... appended;
 *  - the person of the newest publication that has one, except that a
 *    later person whose timestamp is older than the chosen one's loses
 *    (both timestamps present);
 *  - entity of the newest publication that has one.
 * Returns 0, or -E2BIG when the tuples exceed SPR_PIDF_TUPLES_MAX or their
 * text exceeds SPR_PIDF_TEXT_MAX (out then holds nothing useful): a
 * publication store should compose before it accepts a PUBLISH and answer
 * that one with 413, so the composed view always exists.
 */
int spr_pidf_compose(const struct spr_pidf_status *const *pubs, uint32_t n,
		     struct spr_pidf_status *out);

/* The user's view of a status (table in pidf-t.h); out's strings point into st. */
void spr_pidf_status_to_state(const struct spr_pidf_status *st, struct spr_pidf_state *out);

/*
 * A status for a state set by the user or derived from registrations
 * (automatic presence): one tuple (id tuple_id, or "sprd" when empty) with
 * basic, contact (may be empty), note, deviceID and servcaps, and a person
 * (id "p-" + tuple id) with activities, note and, when now_ms != 0, both
 * timestamps. Returns 0, -EINVAL (a string that is not UTF-8 XML text,
 * bad state) or -E2BIG (a string over SPR_PIDF_FIELD_MAX).
 */
int spr_pidf_from_state(const struct spr_pidf_state *s, const struct spr_str *tuple_id,
			const struct spr_str *contact, uint64_t now_ms,
			struct spr_pidf_status *out);

/*
 * Write the PIDF document of st for presentity entity into out: UTF-8, XML
 * declaration, namespaces declared on <presence> only when used, text
 * escaped by libxml2's serializer. Build once per presentity version and
 * send the same bytes to every watcher (DESIGN §6).
 * Returns bytes written (no NUL), -ENOSPC (cap too small), -EINVAL (entity
 * empty or not UTF-8 XML text) or -ENOMEM.
 */
int spr_pidf_build(const struct spr_pidf_status *st, const struct spr_str *entity, char *out,
		   uint32_t cap);

/* The document for "nothing known": one tuple "sprd", basic closed (initial NOTIFYs). */
int spr_pidf_build_closed(const struct spr_str *entity, char *out, uint32_t cap);

const char *spr_presence_state_name(enum spr_presence_state s);
/* The state named name ("available", "in-call" ...), or SPR_PRESENCE__COUNT. */
enum spr_presence_state spr_presence_state_from_name(const struct spr_str *name);
const char *spr_rpid_activity_name(enum spr_rpid_activity a);

#endif
