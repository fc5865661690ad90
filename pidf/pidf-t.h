/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Types of the PIDF library (pidf.h has the functions).
 *
 * Two models of presence live here:
 *  - struct spr_pidf_status: what ONE document says, normalised: RFC 3863
 *    tuples (id, basic, contact, note, timestamp), the RFC 4479 deviceID of
 *    each tuple, RFC 5196 service capabilities, and the RFC 4479 person with
 *    its RFC 4480 activities, note and timestamp. Its strings are copies in
 *    its own text[] arena: it outlives the document it came from.
 *  - struct spr_pidf_state: what a user sees or sets: one enum
 *    spr_presence_state plus note, device, capabilities and custom text.
 *    spr_pidf_status_to_state() and spr_pidf_from_state() map between them
 *    with the table under SPR_FOREACH_RPID_ACTIVITY.
 */
#ifndef SPR_PIDF_T_H
#define SPR_PIDF_T_H

#include <stdbool.h>
#include <stdint.h>

#include <spr/str.h>

/* Namespaces matched by URI, never by prefix. */
#define SPR_PIDF_NS "urn:ietf:params:xml:ns:pidf"		/* RFC 3863 */
#define SPR_PIDF_NS_DM "urn:ietf:params:xml:ns:pidf:data-model" /* RFC 4479 */
#define SPR_PIDF_NS_RPID "urn:ietf:params:xml:ns:pidf:rpid"	/* RFC 4480 */
#define SPR_PIDF_NS_CAPS "urn:ietf:params:xml:ns:pidf:caps"	/* RFC 5196 */

/* Compile-time ceilings; struct spr_pidf_limits sets runtime caps below them. */
#define SPR_PIDF_TUPLES_MAX 16u	       /* tuples of one status, parsed or composed */
#define SPR_PIDF_TEXT_MAX 16384u       /* bytes of all strings of one status */
#define SPR_PIDF_FIELD_MAX 1024u       /* bytes of one string (note, contact, id ...) */
#define SPR_PIDF_PRIORITY_NONE 0xffffu /* contact priority absent; else thousandths 0..1000 */

/*
 * Parse outcomes: enum, SIP status and reason phrase generated together
 * (STYLE rule 5). The reason phrase goes into the PUBLISH's 4xx; the why
 * text of spr_pidf_parse() says where and what (libxml2's line:col message).
 */
#define SPR_FOREACH_PIDF_FAULT(X)                                                                  \
	X(OK, 200, "OK")                                                                           \
	X(TOO_LARGE, 413, "PIDF Too Large")                                                        \
	X(NOT_WELL_FORMED, 400, "PIDF Not Well-Formed")                                            \
	X(DTD, 400, "PIDF DTD Not Allowed")                                                        \
	X(TOO_DEEP, 400, "PIDF Too Deep")                                                          \
	X(WRONG_ROOT, 400, "PIDF Root Is Not presence")                                            \
	X(WRONG_NAMESPACE, 400, "PIDF Wrong Namespace")                                            \
	X(MISSING_ENTITY, 400, "PIDF Missing Entity")                                              \
	X(TUPLE_NO_ID, 400, "PIDF Tuple Without id")                                               \
	X(DUP_TUPLE_ID, 400, "PIDF Duplicate Tuple id")                                            \
	X(TUPLE_NO_STATUS, 400, "PIDF Tuple Without status")                                       \
	X(BAD_BASIC, 400, "PIDF Bad Basic")                                                        \
	X(BAD_PRIORITY, 400, "PIDF Bad Contact Priority")                                          \
	X(BAD_TIMESTAMP, 400, "PIDF Bad Timestamp")                                                \
	X(TOO_MANY_TUPLES, 413, "PIDF Too Many Tuples")                                            \
	X(TEXT_TOO_LONG, 413, "PIDF Text Too Long")                                                \
	X(NO_MEMORY, 500, "PIDF Out Of Memory")

enum spr_pidf_fault {
#define X(name, code, reason) SPR_PIDF_##name,
	SPR_FOREACH_PIDF_FAULT(X)
#undef X
		SPR_PIDF__COUNT
};

/* Runtime caps of spr_pidf_parse(); spr_pidf_limits_default() gives the defaults. */
struct spr_pidf_limits {
	uint32_t max_bytes;  /* document size, checked before parsing (default 64 KiB) */
	uint16_t max_depth;  /* element nesting, presence = 1 (default 32) */
	uint16_t max_tuples; /* <= SPR_PIDF_TUPLES_MAX (default SPR_PIDF_TUPLES_MAX) */
};

/*
 * The user status model and how RPID activities map onto it. Each RFC 4480
 * activity names the state it stands for; spr_pidf_status_to_state() picks
 * the state of highest precedence among a person's activities:
 *
 *   no tuple with basic open                           -> OFFLINE
 *   on-the-phone                                       -> IN_CALL
 *   other "dnd" or "do-not-disturb" (any case)         -> DND
 *   busy appointment meeting performance presentation  -> BUSY
 *   away and the other absences marked AWAY below      -> AWAY
 *   other with any other text                          -> CUSTOM (that text)
 *   none, unknown, working, looking-for-work, empty other -> AVAILABLE
 *
 * spr_pidf_from_state() writes basic open and, per state:
 *   AVAILABLE: no activities   BUSY: busy   AWAY: away
 *   DND: busy + other "do-not-disturb" (a watcher that does not know the
 *        convention still sees busy)
 *   IN_CALL: on-the-phone      CUSTOM: other <text>
 *   OFFLINE: basic closed, no activities.
 */
#define SPR_FOREACH_PRESENCE_STATE(X)                                                              \
	X(AVAILABLE, "available")                                                                  \
	X(BUSY, "busy")                                                                            \
	X(AWAY, "away")                                                                            \
	X(DND, "dnd")                                                                              \
	X(OFFLINE, "offline")                                                                      \
	X(IN_CALL, "in-call")                                                                      \
	X(CUSTOM, "custom")

enum spr_presence_state {
#define X(name, text) SPR_PRESENCE_##name,
	SPR_FOREACH_PRESENCE_STATE(X)
#undef X
		SPR_PRESENCE__COUNT
};

/* RFC 4480 §3.2 activities: enum, element local name, user state it maps to. */
#define SPR_FOREACH_RPID_ACTIVITY(X)                                                               \
	X(APPOINTMENT, "appointment", BUSY)                                                        \
	X(AWAY, "away", AWAY)                                                                      \
	X(BREAKFAST, "breakfast", AWAY)                                                            \
	X(BUSY, "busy", BUSY)                                                                      \
	X(DINNER, "dinner", AWAY)                                                                  \
	X(HOLIDAY, "holiday", AWAY)                                                                \
	X(IN_TRANSIT, "in-transit", AWAY)                                                          \
	X(LOOKING_FOR_WORK, "looking-for-work", AVAILABLE)                                         \
	X(LUNCH, "lunch", AWAY)                                                                    \
	X(MEAL, "meal", AWAY)                                                                      \
	X(MEETING, "meeting", BUSY)                                                                \
	X(ON_THE_PHONE, "on-the-phone", IN_CALL)                                                   \
	X(PERFORMANCE, "performance", BUSY)                                                        \
	X(PERMANENT_ABSENCE, "permanent-absence", AWAY)                                            \
	X(PLAYING, "playing", AWAY)                                                                \
	X(PRESENTATION, "presentation", BUSY)                                                      \
	X(SHOPPING, "shopping", AWAY)                                                              \
	X(SLEEPING, "sleeping", AWAY)                                                              \
	X(SPECTATOR, "spectator", AWAY)                                                            \
	X(STEERING, "steering", AWAY)                                                              \
	X(TRAVEL, "travel", AWAY)                                                                  \
	X(TV, "tv", AWAY)                                                                          \
	X(VACATION, "vacation", AWAY)                                                              \
	X(WORKING, "working", AVAILABLE)                                                           \
	X(WORSHIP, "worship", AWAY)                                                                \
	X(UNKNOWN, "unknown", AVAILABLE)                                                           \
	X(OTHER, "other", CUSTOM)

enum spr_rpid_activity {
#define X(name, elem, state) SPR_RPID_##name,
	SPR_FOREACH_RPID_ACTIVITY(X)
#undef X
		SPR_RPID__COUNT
};

#define SPR_RPID_BIT(name) (UINT32_C(1) << SPR_RPID_##name)

/* Text of a status: bytes [off, off + len) of its text[]; len 0 means absent. */
struct spr_pidf_ref {
	uint16_t off;
	uint16_t len;
};

enum spr_pidf_basic {
	SPR_PIDF_BASIC_NONE, /* <status> without <basic> (RFC 3863 allows it) */
	SPR_PIDF_BASIC_OPEN,
	SPR_PIDF_BASIC_CLOSED,
};

/* RFC 5196 servcaps a tuple states; chat is message or text. */
#define SPR_PIDF_CAP_AUDIO 0x01u
#define SPR_PIDF_CAP_VIDEO 0x02u
#define SPR_PIDF_CAP_TEXT 0x04u
#define SPR_PIDF_CAP_MESSAGE 0x08u

struct spr_pidf_tuple {
	struct spr_pidf_ref id;
	struct spr_pidf_ref contact;
	struct spr_pidf_ref note;      /* the first <note> */
	struct spr_pidf_ref timestamp; /* as written */
	struct spr_pidf_ref device;    /* <dm:deviceID> */
	int64_t ts_ms;		       /* timestamp in ms since the epoch; 0 when absent */
	uint16_t priority;	       /* contact priority x 1000, or SPR_PIDF_PRIORITY_NONE */
	uint8_t basic;		       /* enum spr_pidf_basic */
	uint8_t caps;		       /* SPR_PIDF_CAP_* stated true */
	uint8_t caps_stated;	       /* SPR_PIDF_CAP_* stated true or false */
};

struct spr_pidf_person {
	struct spr_pidf_ref id;
	struct spr_pidf_ref note;      /* <dm:note>, else the document's <pidf:note> */
	struct spr_pidf_ref timestamp; /* as written */
	struct spr_pidf_ref other;     /* text of the first <rpid:other> */
	int64_t ts_ms;		       /* 0 when absent */
	uint32_t activities;	       /* SPR_RPID_BIT() set */
};

/*
 * One document's presence. Plain data: copy it with memcpy. A read-only copy
 * may be cut short to spr_pidf_status_size() bytes (the unused tail of
 * text[] is not part of it), which is what a publication store keeps.
 */
struct spr_pidf_status {
	struct spr_pidf_ref entity; /* presence/@entity; empty when built from a state */
	bool has_person;
	uint16_t n_tuples;
	struct spr_pidf_person person;
	struct spr_pidf_tuple tuples[SPR_PIDF_TUPLES_MAX];
	uint32_t text_used;
	char text[SPR_PIDF_TEXT_MAX];
};

/* User capabilities (spr_pidf_state.caps). */
#define SPR_PRESENCE_CAP_AUDIO 0x01u
#define SPR_PRESENCE_CAP_VIDEO 0x02u
#define SPR_PRESENCE_CAP_CHAT 0x04u

/* What a user sees or sets. Strings are views (struct spr_str), never owned. */
struct spr_pidf_state {
	enum spr_presence_state state;
	uint8_t caps;	       /* SPR_PRESENCE_CAP_*; 0: not stated */
	struct spr_str note;   /* free text for watchers; may be empty */
	struct spr_str device; /* device id (urn:uuid:..., a MAC, +sip.instance); may be empty */
	struct spr_str custom; /* CUSTOM's text; ignored for other states */
};

#endif
