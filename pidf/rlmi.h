/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resource list notification bodies (RFC 4662 §5): a multipart/related
 * body (RFC 2387) whose first part, the start, is the RLMI document
 * (application/rlmi+xml) listing the resources, followed by one
 * application/pidf+xml part per resource whose state is known; the part's
 * Content-ID is the cid of the resource's <instance>.
 *
 * The RLMI document is written directly (its shape is fixed; rlmi.c says
 * why not through a libxml2 tree). Resource URIs are written as given,
 * except that every byte outside printable ASCII is percent-encoded and the
 * XML specials escaped, so any input gives well-formed XML. The boundary is
 * 24 hex digits keyed by the caller's seed, and drawn again while it occurs
 * in any part.
 *
 * Return convention (STYLE rule 3): bytes written, or -errno.
 * Context: any thread; nothing is kept between calls.
 */
#ifndef SPR_RLMI_H
#define SPR_RLMI_H

#include <stdbool.h>
#include <stdint.h>

#include <spr/str.h>

#define SPR_RLMI_NS "urn:ietf:params:xml:ns:rlmi"
#define SPR_RLMI_CTYPE_MAX 160u /* room for the Content-Type value */
/* Its length: always the same (a fixed-length boundary and start cid). */
#define SPR_RLMI_CTYPE_LEN                                                                         \
	(sizeof("multipart/related;type=\"application/rlmi+xml\";"                                 \
		"start=\"<0123456789abcdef@sprd>\";boundary=\"0123456789abcdef01234567\"") -       \
	 1)

/* One resource of a list. */
struct spr_rlmi_resource {
	struct spr_str uri; /* the resource's URI */
	struct spr_str doc; /* its PIDF document; empty: state unknown, no instance, no part */
	uint64_t id; /* unique in the list and stable across notifications: the instance id */
};

struct spr_rlmi_out {
	uint32_t included; /* resources with an instance and a part */
	uint32_t omitted;  /* resources with a document whose part did not fit (no instance) */
	uint32_t redraws;  /* boundaries drawn again because a part held one */
	uint32_t content_type_len;
	char content_type[SPR_RLMI_CTYPE_MAX]; /* the value of the NOTIFY's Content-Type */
};

/*
 * Write the body of a list notification into out[0..cap): the RLMI
 * document <list xmlns=SPR_RLMI_NS uri=list_uri version=version
 * fullState=full_state> with one <resource uri> per resource in order, each
 * with a document getting <instance id state="active" cid>, then the parts.
 * When the parts do not all fit, the last ones are left out (their
 * resources are listed without an instance, o->omitted counts them), so a
 * body is always written when the RLMI document alone fits.
 * seed makes the boundary and Content-IDs (give a different one for every
 * body, unguessable by whoever writes the documents).
 * An empty list (n 0) is a body with the RLMI document only.
 * Returns the body's length, -ENOSPC (not even the RLMI document fits),
 * -EINVAL (list_uri empty), -ENOMEM, -EEXIST (every boundary drawn occurs
 * in a part: cannot happen unless the seed is known).
 */
int spr_rlmi_build(const struct spr_str *list_uri, uint32_t version, bool full_state,
		   const struct spr_rlmi_resource *res, uint32_t n, uint64_t seed, char *out,
		   uint32_t cap, struct spr_rlmi_out *o);

#endif /* SPR_RLMI_H */
