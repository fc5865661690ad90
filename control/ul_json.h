/* SPDX-License-Identifier: BSD-3-Clause */
/* Location records as JSON, for the control socket (ul.lookup, ul.dump) and events. */
#ifndef SPR_UL_JSON_H
#define SPR_UL_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <spr/location.h>

/*
 * A JSON string of len bytes, NULs included. Bytes that are not part of
 * valid UTF-8 are written as "%XX" (upper-case hex), so any input yields a
 * string that serialises. Returns a new reference, NULL on allocation failure.
 */
json_t *spr_ul_json_string(const char *p, uint32_t len);

/*
 * The record of an AOR with its bindings alive at second now:
 * {"aor": S, "bindings": [{"contact": S, "expires": seconds left, "q": 0.5 | null,
 *   "call_id": S, "cseq": N, "received": "ip:port" | "[ip6]:port" | null,
 *   "user_agent": S | null, "path": S | null, "instance": S | null, "reg_id": N | null}]}
 * brief keeps contact and expires only. Returns a new reference, NULL on
 * allocation failure. Context: any QSBR reader, online, while r is valid.
 */
json_t *spr_ul_record_json(const struct spr_record *r, uint32_t now, bool brief);

#endif /* SPR_UL_JSON_H */
