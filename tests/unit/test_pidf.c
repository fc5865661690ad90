/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PIDF library: RFC 3863 / RFC 4480 documents parse to the right model;
 * malformed documents fail with the right fault; hostile ones (billion
 * laughs, external entities, oversized, deeply nested) are refused before
 * any expansion or load; build -> parse round trips; composition of several
 * publications; the user state mapping both ways. Every document is parsed
 * flush against a guard page.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pidf.h"
#include "testutil.h"

static char why[256];

static enum spr_pidf_fault
parse_lim(const char *doc, const struct spr_pidf_limits *lim, struct spr_pidf_status *st)
{
	uint32_t len = (uint32_t)strlen(doc);
	char *g = spr_test_guard_copy(doc, len);
	enum spr_pidf_fault f;

	assert_non_null(g);
	f = spr_pidf_parse(g, len, lim, st, why, sizeof(why));
	spr_test_guard_free(g, len);
	return f;
}

static enum spr_pidf_fault
parse(const char *doc, struct spr_pidf_status *st)
{
	return parse_lim(doc, NULL, st);
}

static struct spr_pidf_status *
new_status(void)
{
	struct spr_pidf_status *st = malloc(sizeof(*st));

	assert_non_null(st);
	return st;
}

static void
assert_ref(const struct spr_pidf_status *st, struct spr_pidf_ref r, const char *want)
{
	struct spr_str s = spr_pidf_str(st, r);

	if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
		fail_msg("got \"%.*s\", want \"%s\"", (int)s.len, s.p, want);
}

static void
assert_view(struct spr_str s, const char *want)
{
	if (s.len != strlen(want) || (s.len != 0 && memcmp(s.p, want, s.len) != 0))
		fail_msg("got \"%.*s\", want \"%s\"", (int)s.len, s.p, want);
}

#define assert_fault(doc, want)                                                                    \
	do {                                                                                       \
		struct spr_pidf_status *st_ = new_status();                                        \
		enum spr_pidf_fault f_ = parse((doc), st_);                                        \
		if (f_ != (want))                                                                  \
			fail_msg("fault %s (%s), want %s", spr_pidf_fault_name(f_), why,           \
				 spr_pidf_fault_name(want));                                       \
		free(st_);                                                                         \
	} while (0)

#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define PRES_OPEN "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"pres:a@example.com\">"

/* RFC 3863 §6.1 (the minimal example). */
static const char rfc3863_basic[] =
	XMLDECL "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
		"    entity=\"pres:someone@example.com\">\n"
		"  <tuple id=\"sg89ae\">\n"
		"    <status>\n"
		"      <basic>open</basic>\n"
		"    </status>\n"
		"    <contact priority=\"0.8\">tel:+09012345678</contact>\n"
		"  </tuple>\n"
		"</presence>\n";

/* RFC 3863 §6.2 style: a prefixed PIDF namespace, an extension in status, notes. */
static const char rfc3863_ext[] =
	XMLDECL "<impp:presence xmlns:impp=\"urn:ietf:params:xml:ns:pidf\"\n"
		"    xmlns:myex=\"http://id.example.com/presence/\"\n"
		"    entity=\"pres:someone@example.com\">\n"
		"  <impp:tuple id=\"ck38g9\">\n"
		"    <impp:status>\n"
		"      <impp:basic>open</impp:basic>\n"
		"      <myex:location>home</myex:location>\n"
		"    </impp:status>\n"
		"    <impp:contact priority=\"0.65\">tel:+09012345678</impp:contact>\n"
		"  </impp:tuple>\n"
		"  <impp:tuple id=\"md6tjk\">\n"
		"    <impp:status>\n"
		"      <impp:basic>closed</impp:basic>\n"
		"    </impp:status>\n"
		"    <impp:contact priority=\"1.0\">\n"
		"       im:someone@mobilecarrier.net</impp:contact>\n"
		"    <impp:note xml:lang=\"en\">Don't Disturb Please!</impp:note>\n"
		"    <impp:note xml:lang=\"fr\">Ne derangez pas, s'il vous plait</impp:note>\n"
		"    <impp:timestamp>2001-10-27T16:49:29Z</impp:timestamp>\n"
		"  </impp:tuple>\n"
		"  <impp:note xml:lang=\"en\">I'll be in Tokyo next week</impp:note>\n"
		"</impp:presence>\n";

/* RFC 4480 §4 style: data model, RPID person with activities and more. */
static const char rfc4480_doc[] =
	XMLDECL "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
		" xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
		" xmlns:r=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
		" xmlns:c=\"urn:ietf:params:xml:ns:pidf:cipid\"\n"
		" entity=\"pres:someone@example.com\">\n"
		" <tuple id=\"bs35r9\">\n"
		"   <status><basic>open</basic></status>\n"
		"   <dm:deviceID>urn:device:0003ba4811e3</dm:deviceID>\n"
		"   <r:relationship><r:assistant/></r:relationship>\n"
		"   <r:service-class><r:electronic/></r:service-class>\n"
		"   <contact priority=\"0.8\">im:someone@mobile.example.net</contact>\n"
		"   <note xml:lang=\"en\">Don't Disturb Please!</note>\n"
		"   <note xml:lang=\"fr\">Ne derangez pas, s'il vous plait</note>\n"
		"   <timestamp>2005-10-27T16:49:29Z</timestamp>\n"
		" </tuple>\n"
		" <tuple id=\"ty4658\">\n"
		"   <status><basic>open</basic></status>\n"
		"   <r:status-icon>http://example.com/mail.png</r:status-icon>\n"
		"   <r:class>email</r:class>\n"
		"   <contact priority=\"1.0\">mailto:someone@example.com</contact>\n"
		" </tuple>\n"
		" <note>I'll be in Tokyo next week</note>\n"
		" <dm:device id=\"pc147\">\n"
		"   <r:user-input idle-threshold=\"600\"\n"
		"     last-input=\"2004-10-21T13:20:00.000-05:00\">idle</r:user-input>\n"
		"   <dm:deviceID>urn:device:0003ba4811e3</dm:deviceID>\n"
		"   <dm:note>PC</dm:note>\n"
		" </dm:device>\n"
		" <dm:person id=\"p1\">\n"
		"   <r:activities from=\"2005-05-30T12:00:00+05:00\"\n"
		"     until=\"2005-05-30T17:00:00+05:00\">\n"
		"     <r:note>Far away</r:note>\n"
		"     <r:away/>\n"
		"   </r:activities>\n"
		"   <r:class>calendar</r:class>\n"
		"   <r:mood>\n"
		"     <r:angry/>\n"
		"     <r:other>brooding</r:other>\n"
		"   </r:mood>\n"
		"   <r:place-type><r:residence/></r:place-type>\n"
		"   <r:privacy><r:unknown/></r:privacy>\n"
		"   <r:sphere>bowling league</r:sphere>\n"
		"   <r:time-offset>-240</r:time-offset>\n"
		"   <dm:note>Scoring 120</dm:note>\n"
		"   <dm:timestamp>2005-05-30T16:09:44+05:00</dm:timestamp>\n"
		" </dm:person>\n"
		"</presence>\n";

static void
test_rfc3863_basic(void **state)
{
	struct spr_pidf_status *st = new_status();
	struct spr_pidf_state s;

	assert_int_equal(parse(rfc3863_basic, st), SPR_PIDF_OK);
	assert_ref(st, st->entity, "pres:someone@example.com");
	assert_int_equal(st->n_tuples, 1);
	assert_ref(st, st->tuples[0].id, "sg89ae");
	assert_int_equal(st->tuples[0].basic, SPR_PIDF_BASIC_OPEN);
	assert_ref(st, st->tuples[0].contact, "tel:+09012345678");
	assert_int_equal(st->tuples[0].priority, 800);
	assert_false(st->has_person);
	spr_pidf_status_to_state(st, &s);
	assert_int_equal(s.state, SPR_PRESENCE_AVAILABLE);
	free(st);
}

static void
test_rfc3863_prefixed(void **state)
{
	struct spr_pidf_status *st = new_status();

	assert_int_equal(parse(rfc3863_ext, st), SPR_PIDF_OK);
	assert_int_equal(st->n_tuples, 2);
	assert_ref(st, st->tuples[0].id, "ck38g9");
	assert_int_equal(st->tuples[0].priority, 650);
	assert_ref(st, st->tuples[1].id, "md6tjk");
	assert_int_equal(st->tuples[1].basic, SPR_PIDF_BASIC_CLOSED);
	assert_ref(st, st->tuples[1].contact, "im:someone@mobilecarrier.net");
	assert_int_equal(st->tuples[1].priority, 1000);
	assert_ref(st, st->tuples[1].note, "Don't Disturb Please!"); /* the first note */
	assert_ref(st, st->tuples[1].timestamp, "2001-10-27T16:49:29Z");
	assert_true(st->tuples[1].ts_ms == INT64_C(1004201369000));
	/* the document-level note is the person's */
	assert_true(st->has_person);
	assert_ref(st, st->person.note, "I'll be in Tokyo next week");
	assert_int_equal(st->person.activities, 0);
	free(st);
}

static void
test_rfc4480(void **state)
{
	struct spr_pidf_status *st = new_status();
	struct spr_pidf_state s;

	assert_int_equal(parse(rfc4480_doc, st), SPR_PIDF_OK);
	assert_int_equal(st->n_tuples, 2);
	assert_ref(st, st->tuples[0].device, "urn:device:0003ba4811e3");
	assert_ref(st, st->tuples[0].note, "Don't Disturb Please!");
	assert_true(st->has_person);
	assert_ref(st, st->person.id, "p1");
	/* <r:other> of <r:mood> and <r:unknown> of <r:privacy> are not activities */
	assert_int_equal(st->person.activities, SPR_RPID_BIT(AWAY));
	assert_int_equal(st->person.other.len, 0);
	assert_ref(st, st->person.note, "Scoring 120");
	assert_true(st->person.ts_ms == INT64_C(1117451384000)); /* 11:09:44Z */
	spr_pidf_status_to_state(st, &s);
	assert_int_equal(s.state, SPR_PRESENCE_AWAY);
	assert_view(s.note, "Scoring 120");
	assert_view(s.device, "urn:device:0003ba4811e3");
	free(st);
}

/* Any prefix, default namespaces redeclared lower down, and elements of other namespaces. */
static void
test_namespaces(void **state)
{
	struct spr_pidf_status *st = new_status();
	static const char doc[] =
		"<x:presence xmlns:x='urn:ietf:params:xml:ns:pidf' entity='sip:b@example.com'>"
		"<x:tuple id='t'><x:status><x:basic>closed</x:basic></x:status>"
		"<note xmlns='urn:ietf:params:xml:ns:pidf'>a &amp; b &lt;c&gt; &quot;d&quot; "
		"&apos;e&apos; &#x263A;</note></x:tuple>"
		/* a tuple in a foreign namespace is not a tuple */
		"<tuple xmlns='urn:example:other' id='u'/>"
		"<zz:person xmlns:zz='urn:ietf:params:xml:ns:pidf:data-model'>"
		"<activities xmlns='urn:ietf:params:xml:ns:pidf:rpid'><on-the-phone/>"
		"<busy xmlns='urn:example:not-rpid'/></activities></zz:person>"
		"</x:presence>";

	assert_int_equal(parse(doc, st), SPR_PIDF_OK);
	assert_int_equal(st->n_tuples, 1);
	assert_ref(st, st->tuples[0].note, "a & b <c> \"d\" 'e' \xe2\x98\xba");
	assert_int_equal(st->person.activities, SPR_RPID_BIT(ON_THE_PHONE));
	free(st);
}

static void
test_servcaps_and_cdata(void **state)
{
	struct spr_pidf_status *st = new_status();
	struct spr_pidf_state s;
	static const char doc[] = PRES_OPEN
		"<tuple id='t' xmlns:caps='urn:ietf:params:xml:ns:pidf:caps'>"
		"<status><basic> open </basic></status>"
		"<caps:servcaps><caps:audio>true</caps:audio><caps:video>false</caps:video>"
		"<caps:message>1</caps:message><caps:text>maybe</caps:text></caps:servcaps>"
		"<contact><![CDATA[sip:a@10.0.0.1]]></contact></tuple></presence>";

	assert_int_equal(parse(doc, st), SPR_PIDF_OK);
	assert_int_equal(st->tuples[0].basic, SPR_PIDF_BASIC_OPEN);
	assert_int_equal(st->tuples[0].caps, SPR_PIDF_CAP_AUDIO | SPR_PIDF_CAP_MESSAGE);
	assert_int_equal(st->tuples[0].caps_stated,
			 SPR_PIDF_CAP_AUDIO | SPR_PIDF_CAP_VIDEO | SPR_PIDF_CAP_MESSAGE);
	assert_ref(st, st->tuples[0].contact, "sip:a@10.0.0.1");
	assert_int_equal(st->tuples[0].priority, SPR_PIDF_PRIORITY_NONE);
	spr_pidf_status_to_state(st, &s);
	assert_int_equal(s.caps, SPR_PRESENCE_CAP_AUDIO | SPR_PRESENCE_CAP_CHAT);
	free(st);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char *doc;
		enum spr_pidf_fault f;
		const char *why; /* a substring of the why text */
	} cases[] = {
		{"", SPR_PIDF_NOT_WELL_FORMED, "empty"},
		{"hello, world", SPR_PIDF_NOT_WELL_FORMED, "line 1"},
		{PRES_OPEN "<tuple id='t'><status><basic>open</basic></status>",
		 SPR_PIDF_NOT_WELL_FORMED, "line 1 col"},
		{PRES_OPEN "</tuple></presence>", SPR_PIDF_NOT_WELL_FORMED, "mismatch"},
		{PRES_OPEN "<note>&xxe;</note></presence>", SPR_PIDF_NOT_WELL_FORMED, "xxe"},
		{PRES_OPEN "<q:note>x</q:note></presence>", SPR_PIDF_NOT_WELL_FORMED, "q"},
		{PRES_OPEN "</presence><presence/>", SPR_PIDF_NOT_WELL_FORMED, "line"},
		{"<foo xmlns='urn:ietf:params:xml:ns:pidf' entity='a'/>", SPR_PIDF_WRONG_ROOT,
		 "<foo>"},
		{"<presence entity='pres:a@example.com'/>", SPR_PIDF_WRONG_NAMESPACE, "(none)"},
		{"<presence xmlns='urn:ietf:params:xml:ns:cpim-pidf' entity='a'/>",
		 SPR_PIDF_WRONG_NAMESPACE, "cpim-pidf"},
		{"<presence xmlns='urn:ietf:params:xml:ns:pidf'/>", SPR_PIDF_MISSING_ENTITY,
		 "entity"},
		{"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity=' '/>",
		 SPR_PIDF_MISSING_ENTITY, "entity"},
		{PRES_OPEN "<tuple><status/></tuple></presence>", SPR_PIDF_TUPLE_NO_ID, "id"},
		{PRES_OPEN "<tuple id='a'><status/></tuple><tuple id='a'><status/></tuple>"
			   "</presence>",
		 SPR_PIDF_DUP_TUPLE_ID, "\"a\""},
		{PRES_OPEN "<tuple id='a'><contact>sip:a@b</contact></tuple></presence>",
		 SPR_PIDF_TUPLE_NO_STATUS, "status"},
		{PRES_OPEN "<tuple id='a'><status><basic>maybe</basic></status></tuple>"
			   "</presence>",
		 SPR_PIDF_BAD_BASIC, "\"maybe\""},
		{PRES_OPEN "<tuple id='a'><status><basic>OPEN</basic></status></tuple>"
			   "</presence>",
		 SPR_PIDF_BAD_BASIC, "\"OPEN\""},
		{PRES_OPEN "<tuple id='a'><status/><contact priority='1.5'>x</contact></tuple>"
			   "</presence>",
		 SPR_PIDF_BAD_PRIORITY, "1.5"},
		{PRES_OPEN "<tuple id='a'><status/><timestamp>yesterday</timestamp></tuple>"
			   "</presence>",
		 SPR_PIDF_BAD_TIMESTAMP, "yesterday"},
		{PRES_OPEN "<tuple id='a'><status/><timestamp>2023-02-29T10:00:00Z</timestamp>"
			   "</tuple></presence>",
		 SPR_PIDF_BAD_TIMESTAMP, "2023-02-29"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spr_pidf_status *st = new_status();
		enum spr_pidf_fault f = parse(cases[i].doc, st);

		if (f != cases[i].f || strstr(why, cases[i].why) == NULL)
			fail_msg("case %zu: %s (%s), want %s with \"%s\"", i,
				 spr_pidf_fault_name(f), why, spr_pidf_fault_name(cases[i].f),
				 cases[i].why);
		for (const char *c = why; *c; c++)
			assert_true((unsigned char)*c >= 0x20);
		free(st);
	}
	assert_int_equal(spr_pidf_fault_code(SPR_PIDF_BAD_BASIC), 400);
	assert_string_equal(spr_pidf_fault_reason(SPR_PIDF_BAD_BASIC), "PIDF Bad Basic");
	assert_int_equal(spr_pidf_fault_code(SPR_PIDF_TOO_LARGE), 413);
}

/* The why text quotes the document, but never a control character (log and header safe). */
static void
test_why_sanitised(void **state)
{
	assert_fault(PRES_OPEN "<tuple id='a'><status><basic>op\n\ten</basic></status></tuple>"
			       "</presence>",
		     SPR_PIDF_BAD_BASIC);
	assert_non_null(strstr(why, "op  en"));
}

/* libxml2 errors never reach stderr. */
static void
test_silent(void **state)
{
	char path[] = "/tmp/test_pidf_stderr_XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	struct stat sb;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	assert_fault("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'><a></b>",
		     SPR_PIDF_NOT_WELL_FORMED);
	assert_fault(PRES_OPEN "<q:x/></presence>", SPR_PIDF_NOT_WELL_FORMED);
	assert_fault("<presence xmlns='relative' entity='a'/>", SPR_PIDF_WRONG_NAMESPACE);
	assert_fault("<?xml version='1.0' encoding='no-such-charset'?><a/>",
		     SPR_PIDF_NOT_WELL_FORMED);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	close(fd);
	unlink(path);
}

static const char lol9[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE lolz [\n"
	" <!ENTITY lol \"lol\">\n"
	" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	"]>\n"
	"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"pres:a@example.com\">"
	"<note>&lol9;</note></presence>\n";

/* Billion laughs: refused at the DOCTYPE, on line 2, before any entity is declared. */
static void
test_billion_laughs(void **state)
{
	struct spr_pidf_status *st = new_status();

	for (int i = 0; i < 1000; i++)
		assert_int_equal(parse(lol9, st), SPR_PIDF_DTD);
	assert_non_null(strstr(why, "line 2"));
	assert_non_null(strstr(why, "DOCTYPE"));
	assert_int_equal(st->text_used, 0);
	free(st);
}

/*
 * External entities. The targets are a file with a secret in it, a file
 * that does not exist, and a FIFO nobody writes to: opening the FIFO for
 * reading would block, so a test that returns proves nothing was opened
 * (the alarm turns a hang into a failure).
 */
static void
test_external_entities(void **state)
{
	char dir[] = "/tmp/test_pidf_xxe_XXXXXX", secret[128], fifo[128], doc[1024];
	const char *targets[3];
	static const char *const shapes[] = {
		/* general external entity */
		"<!DOCTYPE presence [<!ENTITY x SYSTEM \"file://%s\">]>" PRES_OPEN
		"<note>&x;</note></presence>",
		/* parameter entity, referenced inside the subset */
		"<!DOCTYPE presence [<!ENTITY %% x SYSTEM \"file://%s\"> %%x;]>" PRES_OPEN
		"</presence>",
		/* external DTD subset */
		"<!DOCTYPE presence SYSTEM \"file://%s\">" PRES_OPEN "</presence>",
		/* the same over the network (XML_PARSE_NONET as well) */
		"<!DOCTYPE presence [<!ENTITY x SYSTEM \"http://127.0.0.1:9%s\">]>" PRES_OPEN
		"<note>&x;</note></presence>",
	};
	struct spr_pidf_status *st = new_status();
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_non_null(f = fopen(secret, "w"));
	fputs("TOPSECRET\n", f);
	fclose(f);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	targets[0] = secret;
	targets[1] = fifo;
	targets[2] = "/nonexistent/passwd";
	alarm(30);
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		for (size_t t = 0; t < 3; t++) {
			snprintf(doc, sizeof(doc), shapes[s], s == 3 ? "" : targets[t]);
			assert_int_equal(parse(doc, st), SPR_PIDF_DTD);
			assert_non_null(strstr(why, "DOCTYPE"));
			assert_null(memmem(st->text, st->text_used, "TOPSECRET", 9));
		}
	}
	/* the DOCTYPE anywhere after the XML declaration, or with a comment before it */
	assert_fault(XMLDECL "<!-- c --><!DOCTYPE presence>" PRES_OPEN "</presence>", SPR_PIDF_DTD);
	/* after the root it is not well-formed at all */
	assert_fault(PRES_OPEN "</presence><!DOCTYPE presence>", SPR_PIDF_NOT_WELL_FORMED);
	alarm(0);
	unlink(fifo);
	unlink(secret);
	rmdir(dir);
	free(st);
}

/* Over the cap: refused without a byte read (the buffer is PROT_NONE). */
static void
test_oversized(void **state)
{
	struct spr_pidf_status *st = new_status();
	struct spr_pidf_limits lim;
	size_t n = 128 * 1024;
	char *none = mmap(NULL, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *big;

	assert_true(none != MAP_FAILED);
	assert_int_equal(spr_pidf_parse(none, 64 * 1024 + 1, NULL, st, why, sizeof(why)),
			 SPR_PIDF_TOO_LARGE);
	assert_non_null(strstr(why, "65537 bytes, limit 65536"));
	munmap(none, n);

	/* exactly at the cap parses; a lower cap refuses the same document */
	big = malloc(64 * 1024 + 1);
	assert_non_null(big);
	memset(big, ' ', 64 * 1024);
	memcpy(big, rfc3863_basic, strlen(rfc3863_basic));
	big[64 * 1024] = '\0';
	assert_int_equal(parse(big, st), SPR_PIDF_OK);
	spr_pidf_limits_default(&lim);
	lim.max_bytes = 1024;
	assert_int_equal(parse_lim(big, &lim, st), SPR_PIDF_TOO_LARGE);
	free(big);

	/* one string over SPR_PIDF_FIELD_MAX */
	big = malloc(4096);
	assert_non_null(big);
	snprintf(big, 4096, PRES_OPEN "<note>%01100d</note></presence>", 7);
	assert_int_equal(parse(big, st), SPR_PIDF_TEXT_TOO_LONG);
	assert_non_null(strstr(why, "1100 bytes"));
	free(big);
	free(st);
}

/* presence with levels of unknown <a> elements nested under it */
static char *
nested(uint32_t levels)
{
	size_t cap = strlen(PRES_OPEN) + levels * 7 + 64;
	char *d = malloc(cap), *p = d;

	if (d == NULL)
		abort();
	p += sprintf(p, PRES_OPEN);
	for (uint32_t i = 0; i < levels; i++)
		p += sprintf(p, "<a>");
	for (uint32_t i = 0; i < levels; i++)
		p += sprintf(p, "</a>");
	sprintf(p, "</presence>");
	return d;
}

static void
test_too_deep(void **state)
{
	struct spr_pidf_status *st = new_status();
	struct spr_pidf_limits lim;
	char *d;

	/* 1000 levels, past libxml2's own 256 */
	d = nested(1000);
	assert_int_equal(parse(d, st), SPR_PIDF_TOO_DEEP);
	assert_non_null(strstr(why, "deeper than 32"));
	free(d);
	/* presence is level 1: 31 more levels are at the cap, 32 past it */
	d = nested(31);
	assert_int_equal(parse(d, st), SPR_PIDF_OK);
	free(d);
	d = nested(32);
	assert_int_equal(parse(d, st), SPR_PIDF_TOO_DEEP);
	free(d);
	spr_pidf_limits_default(&lim);
	lim.max_depth = 4;
	assert_int_equal(parse_lim(PRES_OPEN "<tuple id='t'><status><basic>open</basic>"
					     "</status></tuple></presence>",
				   &lim, st),
			 SPR_PIDF_OK);
	assert_int_equal(parse_lim(PRES_OPEN "<tuple id='t'><status><basic><b/></basic>"
					     "</status></tuple></presence>",
				   &lim, st),
			 SPR_PIDF_TOO_DEEP);
	free(st);
}

static void
test_too_many_tuples(void **state)
{
	struct spr_pidf_status *st = new_status();
	struct spr_pidf_limits lim;
	char doc[4096], *p = doc;

	p += sprintf(p, PRES_OPEN);
	for (int i = 0; i < 17; i++)
		p += sprintf(p, "<tuple id='t%d'><status><basic>open</basic></status></tuple>", i);
	sprintf(p, "</presence>");
	assert_int_equal(parse(doc, st), SPR_PIDF_TOO_MANY_TUPLES);
	assert_non_null(strstr(why, "more than 16"));
	spr_pidf_limits_default(&lim);
	lim.max_tuples = 2;
	assert_int_equal(parse_lim(rfc3863_ext, &lim, st), SPR_PIDF_OK);
	lim.max_tuples = 1;
	assert_int_equal(parse_lim(rfc3863_ext, &lim, st), SPR_PIDF_TOO_MANY_TUPLES);
	free(st);
}

/* Field by field: what a parse of the built document must give back. */
static void
assert_same(const struct spr_pidf_status *a, const struct spr_pidf_status *b)
{
#define SAME(ra, rb)                                                                               \
	do {                                                                                       \
		struct spr_str sa_ = spr_pidf_str(a, ra), sb_ = spr_pidf_str(b, rb);               \
		if (!spr_str_eq(&sa_, &sb_))                                                       \
			fail_msg("%s: \"%.*s\" != \"%.*s\"", #ra, (int)sa_.len, sa_.p,             \
				 (int)sb_.len, sb_.p);                                             \
	} while (0)
	assert_int_equal(a->n_tuples, b->n_tuples);
	assert_int_equal(a->has_person, b->has_person);
	for (uint16_t i = 0; i < a->n_tuples; i++) {
		const struct spr_pidf_tuple *x = &a->tuples[i], *y = &b->tuples[i];

		SAME(x->id, y->id);
		SAME(x->contact, y->contact);
		SAME(x->note, y->note);
		SAME(x->timestamp, y->timestamp);
		SAME(x->device, y->device);
		assert_true(x->ts_ms == y->ts_ms);
		assert_int_equal(x->priority, y->priority);
		assert_int_equal(x->basic, y->basic);
		assert_int_equal(x->caps, y->caps);
		assert_int_equal(x->caps_stated, y->caps_stated);
	}
	if (a->has_person) {
		SAME(a->person.note, b->person.note);
		SAME(a->person.timestamp, b->person.timestamp);
		SAME(a->person.other, b->person.other);
		assert_true(a->person.ts_ms == b->person.ts_ms);
		assert_int_equal(a->person.activities, b->person.activities);
	}
#undef SAME
}

static void
test_round_trip_rfc4480(void **state)
{
	struct spr_pidf_status *a = new_status(), *b = new_status();
	static const struct spr_str entity = SPR_STR("pres:someone@example.com");
	char out[8192];
	int n;

	assert_int_equal(parse(rfc4480_doc, a), SPR_PIDF_OK);
	n = spr_pidf_build(a, &entity, out, sizeof(out));
	assert_true(n > 0);
	out[n] = '\0';
	assert_int_equal(parse(out, b), SPR_PIDF_OK);
	assert_same(a, b);
	assert_ref(b, b->person.id, "p1");
	assert_ref(b, b->entity, "pres:someone@example.com");
	/* a buffer one byte short */
	assert_int_equal(spr_pidf_build(a, &entity, out, (uint32_t)n - 1), -ENOSPC);
	assert_int_equal(spr_pidf_build(a, &entity, out, (uint32_t)n), n);
	free(a);
	free(b);
}

/* User text with every character XML cares about, built and parsed back. */
static void
test_round_trip_escapes(void **state)
{
	struct spr_pidf_status *a = new_status(), *b = new_status();
	static const struct spr_str entity = SPR_STR("sip:o'brien&co@example.com");
	struct spr_pidf_state
		s =
			{
				.state = SPR_PRESENCE_CUSTOM,
				.caps = SPR_PRESENCE_CAP_AUDIO | SPR_PRESENCE_CAP_VIDEO,
				.note = SPR_STR(
					"<b>bold</b> & \"quoted\" 'x' ]]> \xc3\xa9t\xc3\xa9\ttab"),
				.device = SPR_STR("urn:uuid:00000000-0000-1000-8000-0011aabbccdd"),
				.custom = SPR_STR("at <the> gym & pool"),
			},
		back;
	static const struct spr_str tid = SPR_STR("dev<1>"), contact = SPR_STR("sip:a@h;x=\"y\"");
	char out[4096];
	int n;

	assert_int_equal(spr_pidf_from_state(&s, &tid, &contact, UINT64_C(1700000000123), a), 0);
	n = spr_pidf_build(a, &entity, out, sizeof(out));
	assert_true(n > 0);
	out[n] = '\0';
	assert_non_null(strstr(out, "&lt;b&gt;bold&lt;/b&gt; &amp; "));
	assert_non_null(strstr(out, "entity=\"sip:o'brien&amp;co@example.com\""));
	assert_non_null(strstr(out, "2023-11-14T22:13:20.123Z"));
	assert_int_equal(parse(out, b), SPR_PIDF_OK);
	assert_same(a, b);
	assert_ref(b, b->tuples[0].id, "dev<1>");
	spr_pidf_status_to_state(b, &back);
	assert_int_equal(back.state, SPR_PRESENCE_CUSTOM);
	assert_int_equal(back.caps, s.caps);
	assert_true(spr_str_eq(&back.note, &s.note));
	assert_true(spr_str_eq(&back.device, &s.device));
	assert_true(spr_str_eq(&back.custom, &s.custom));
	free(a);
	free(b);
}

/* state -> status -> document -> status -> state, for every state. */
static void
test_state_round_trip(void **state)
{
	struct spr_pidf_status *a = new_status(), *b = new_status();
	static const struct spr_str entity = SPR_STR("sip:u@example.com");
	char out[4096];

	for (int k = 0; k < SPR_PRESENCE__COUNT; k++) {
		struct spr_pidf_state s = {.state = (enum spr_presence_state)k,
					   .note = SPR_STR("n"),
					   .custom = SPR_STR("reading")},
				      back;
		int n;

		assert_int_equal(spr_pidf_from_state(&s, NULL, NULL, 0, a), 0);
		n = spr_pidf_build(a, &entity, out, sizeof(out));
		assert_true(n > 0);
		out[n] = '\0';
		assert_int_equal(parse(out, b), SPR_PIDF_OK);
		spr_pidf_status_to_state(b, &back);
		if (back.state != s.state)
			fail_msg("%s came back as %s: %s", spr_presence_state_name(s.state),
				 spr_presence_state_name(back.state), out);
		assert_view(back.note, "n");
		assert_view(back.custom, k == SPR_PRESENCE_CUSTOM ? "reading" : "");
		assert_ref(b, b->tuples[0].id, "sprd");
	}
	free(a);
	free(b);
}

static enum spr_presence_state
state_of(const char *basic, const char *acts)
{
	struct spr_pidf_status *st = new_status();
	struct spr_pidf_state s;
	char doc[2048];

	snprintf(doc, sizeof(doc),
		 PRES_OPEN "<tuple id='t'><status><basic>%s</basic></status></tuple>"
			   "<p:person xmlns:p='urn:ietf:params:xml:ns:pidf:data-model'>"
			   "<r:activities xmlns:r='urn:ietf:params:xml:ns:pidf:rpid'>%s"
			   "</r:activities></p:person></presence>",
		 basic, acts);
	assert_int_equal(parse(doc, st), SPR_PIDF_OK);
	spr_pidf_status_to_state(st, &s);
	free(st);
	return s.state;
}

static void
test_state_mapping(void **state)
{
	static const struct {
		const char *acts;
		enum spr_presence_state want;
	} cases[] = {
		{"", SPR_PRESENCE_AVAILABLE},
		{"<r:unknown/>", SPR_PRESENCE_AVAILABLE},
		{"<r:working/>", SPR_PRESENCE_AVAILABLE},
		{"<r:busy/>", SPR_PRESENCE_BUSY},
		{"<r:meeting/>", SPR_PRESENCE_BUSY},
		{"<r:appointment/>", SPR_PRESENCE_BUSY},
		{"<r:away/>", SPR_PRESENCE_AWAY},
		{"<r:lunch/>", SPR_PRESENCE_AWAY},
		{"<r:vacation/>", SPR_PRESENCE_AWAY},
		{"<r:on-the-phone/>", SPR_PRESENCE_IN_CALL},
		{"<r:away/><r:on-the-phone/>", SPR_PRESENCE_IN_CALL},
		{"<r:busy/><r:away/>", SPR_PRESENCE_BUSY},
		{"<r:busy/><r:other>do-not-disturb</r:other>", SPR_PRESENCE_DND},
		{"<r:other>DND</r:other>", SPR_PRESENCE_DND},
		{"<r:other>at the gym</r:other>", SPR_PRESENCE_CUSTOM},
		{"<r:other>at the gym</r:other><r:lunch/>", SPR_PRESENCE_AWAY},
		{"<r:other/>", SPR_PRESENCE_AVAILABLE},
		{"<r:on-the-phone/><r:other>dnd</r:other>", SPR_PRESENCE_IN_CALL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum spr_presence_state got = state_of("open", cases[i].acts);

		if (got != cases[i].want)
			fail_msg("%s: %s, want %s", cases[i].acts, spr_presence_state_name(got),
				 spr_presence_state_name(cases[i].want));
		/* closed everywhere is offline, whatever the person does */
		assert_int_equal(state_of("closed", cases[i].acts), SPR_PRESENCE_OFFLINE);
	}
	/* every activity parses to its own bit */
	for (int a = 0; a < SPR_RPID__COUNT; a++) {
		struct spr_pidf_status *st = new_status();
		char doc[1024];

		snprintf(doc, sizeof(doc),
			 PRES_OPEN "<person xmlns='urn:ietf:params:xml:ns:pidf:data-model'>"
				   "<activities xmlns='urn:ietf:params:xml:ns:pidf:rpid'><%s/>"
				   "</activities></person></presence>",
			 spr_rpid_activity_name((enum spr_rpid_activity)a));
		assert_int_equal(parse(doc, st), SPR_PIDF_OK);
		assert_int_equal(st->person.activities, UINT32_C(1) << a);
		free(st);
	}
	assert_int_equal(state_of("open", "<r:spectator/>"), SPR_PRESENCE_AWAY);
	/* names */
	for (int k = 0; k < SPR_PRESENCE__COUNT; k++) {
		struct spr_str n = {spr_presence_state_name((enum spr_presence_state)k), 0};

		n.len = (uint32_t)strlen(n.p);
		assert_int_equal(spr_presence_state_from_name(&n), k);
	}
	{
		struct spr_str n = SPR_STR("IN-CALL"), bad = SPR_STR("sleepy");

		assert_int_equal(spr_presence_state_from_name(&n), SPR_PRESENCE_IN_CALL);
		assert_int_equal(spr_presence_state_from_name(&bad), SPR_PRESENCE__COUNT);
	}
}

static void
test_no_tuples_offline(void **state)
{
	struct spr_pidf_status *st = new_status();
	struct spr_pidf_state s;

	assert_int_equal(parse(PRES_OPEN "</presence>", st), SPR_PIDF_OK);
	spr_pidf_status_to_state(st, &s);
	assert_int_equal(s.state, SPR_PRESENCE_OFFLINE);
	/* basic absent is not open */
	assert_int_equal(parse(PRES_OPEN "<tuple id='t'><status/></tuple></presence>", st),
			 SPR_PIDF_OK);
	assert_int_equal(st->tuples[0].basic, SPR_PIDF_BASIC_NONE);
	spr_pidf_status_to_state(st, &s);
	assert_int_equal(s.state, SPR_PRESENCE_OFFLINE);
	free(st);
}

static void
test_from_state_errors(void **state)
{
	struct spr_pidf_status *st = new_status();
	char big[SPR_PIDF_FIELD_MAX + 1];
	struct spr_pidf_state s = {.state = SPR_PRESENCE_CUSTOM};

	assert_int_equal(spr_pidf_from_state(&s, NULL, NULL, 0, st), -EINVAL); /* no text */
	s.state = SPR_PRESENCE__COUNT;
	assert_int_equal(spr_pidf_from_state(&s, NULL, NULL, 0, st), -EINVAL);
	s.state = SPR_PRESENCE_AVAILABLE;
	s.note = SPR_STR("bell\x07");
	assert_int_equal(spr_pidf_from_state(&s, NULL, NULL, 0, st), -EINVAL);
	s.note = SPR_STR("bad \xc3\x28 utf-8");
	assert_int_equal(spr_pidf_from_state(&s, NULL, NULL, 0, st), -EINVAL);
	s.note = SPR_STR("surrogate \xed\xa0\x80");
	assert_int_equal(spr_pidf_from_state(&s, NULL, NULL, 0, st), -EINVAL);
	s.note = SPR_STR("overlong \xe0\x80\xaf");
	assert_int_equal(spr_pidf_from_state(&s, NULL, NULL, 0, st), -EINVAL);
	memset(big, 'a', sizeof(big));
	s.note = (struct spr_str){big, sizeof(big)};
	assert_int_equal(spr_pidf_from_state(&s, NULL, NULL, 0, st), -E2BIG);
	s.note = (struct spr_str){big, sizeof(big) - 1};
	assert_int_equal(spr_pidf_from_state(&s, NULL, NULL, 0, st), 0);
	free(st);
}

static void
test_build_closed(void **state)
{
	struct spr_pidf_status *st = new_status();
	static const struct spr_str entity = SPR_STR("sip:w@example.com"), none = {"", 0};
	struct spr_pidf_state s;
	char out[1024];
	int n = spr_pidf_build_closed(&entity, out, sizeof(out));

	assert_true(n > 0);
	out[n] = '\0';
	assert_int_equal(parse(out, st), SPR_PIDF_OK);
	assert_int_equal(st->n_tuples, 1);
	assert_int_equal(st->tuples[0].basic, SPR_PIDF_BASIC_CLOSED);
	assert_false(st->has_person);
	/* no data-model, RPID or caps namespace when nothing uses it */
	assert_null(strstr(out, "rpid"));
	assert_null(strstr(out, "data-model"));
	spr_pidf_status_to_state(st, &s);
	assert_int_equal(s.state, SPR_PRESENCE_OFFLINE);
	assert_int_equal(spr_pidf_build_closed(&none, out, sizeof(out)), -EINVAL);
	assert_int_equal(spr_pidf_build_closed(&entity, out, 10), -ENOSPC);
	free(st);
}

static struct spr_pidf_status *
pub(const char *tuple, const char *basic, const char *act, const char *ts)
{
	struct spr_pidf_status *st = new_status();
	char doc[2048];

	snprintf(doc, sizeof(doc),
		 PRES_OPEN "<tuple id='%s'><status><basic>%s</basic></status>"
			   "<contact>sip:%s@10.0.0.1</contact></tuple>"
			   "<person xmlns='urn:ietf:params:xml:ns:pidf:data-model' id='p'>"
			   "<activities xmlns='urn:ietf:params:xml:ns:pidf:rpid'><%s/>"
			   "</activities><note>%s</note><timestamp>%s</timestamp>"
			   "</person></presence>",
		 tuple, basic, tuple, act, act, ts);
	assert_int_equal(parse(doc, st), SPR_PIDF_OK);
	return st;
}

static void
test_compose(void **state)
{
	struct spr_pidf_status *phone = pub("phone", "closed", "busy", "2024-01-01T10:00:00Z");
	struct spr_pidf_status *pc = pub("pc", "open", "away", "2024-01-01T11:00:00Z");
	struct spr_pidf_status *out = new_status(), *back = new_status();
	const struct spr_pidf_status *pubs[3] = {phone, pc, NULL};
	static const struct spr_str entity = SPR_STR("pres:a@example.com");
	struct spr_pidf_state s;
	char doc[8192];
	int n;

	assert_int_equal(spr_pidf_compose(pubs, 2, out), 0);
	assert_int_equal(out->n_tuples, 2);
	/* open tuples first */
	assert_ref(out, out->tuples[0].id, "pc");
	assert_int_equal(out->tuples[0].basic, SPR_PIDF_BASIC_OPEN);
	assert_ref(out, out->tuples[1].id, "phone");
	assert_ref(out, out->tuples[1].contact, "sip:phone@10.0.0.1");
	/* the newest person */
	assert_ref(out, out->person.note, "away");
	assert_ref(out, out->entity, "pres:a@example.com");
	spr_pidf_status_to_state(out, &s);
	assert_int_equal(s.state, SPR_PRESENCE_AWAY);

	/* a later publication with an older person timestamp does not win */
	pubs[0] = pc;
	pubs[1] = phone;
	assert_int_equal(spr_pidf_compose(pubs, 2, out), 0);
	assert_ref(out, out->person.note, "away");
	assert_ref(out, out->tuples[0].id, "pc");

	/* without timestamps the later publication wins */
	free(phone);
	phone = pub("phone", "open", "on-the-phone", "2024-01-01T09:00:00Z");
	phone->person.timestamp.len = 0;
	pubs[0] = pc;
	pubs[1] = phone;
	assert_int_equal(spr_pidf_compose(pubs, 2, out), 0);
	assert_ref(out, out->person.note, "on-the-phone");
	spr_pidf_status_to_state(out, &s);
	assert_int_equal(s.state, SPR_PRESENCE_IN_CALL);

	/* clashing tuple ids are made unique; the result builds and parses back */
	pubs[2] = pc;
	assert_int_equal(spr_pidf_compose(pubs, 3, out), 0);
	assert_int_equal(out->n_tuples, 3);
	assert_ref(out, out->tuples[0].id, "pc");
	assert_ref(out, out->tuples[1].id, "phone");
	assert_ref(out, out->tuples[2].id, "pc-2");
	n = spr_pidf_build(out, &entity, doc, sizeof(doc) - 1);
	assert_true(n > 0);
	doc[n] = '\0';
	assert_int_equal(parse(doc, back), SPR_PIDF_OK);
	assert_same(out, back);

	/* a read-only short copy is as good as the original */
	{
		struct spr_pidf_status *copy = malloc(spr_pidf_status_size(out));
		struct spr_pidf_state s2;

		assert_non_null(copy);
		assert_true(spr_pidf_status_size(out) < sizeof(*out) / 4);
		memcpy(copy, out, spr_pidf_status_size(out));
		spr_pidf_status_to_state(copy, &s2);
		assert_int_equal(s2.state, SPR_PRESENCE_AWAY); /* the last pc's person */
		assert_view(s2.note, "away");
		free(copy);
	}
	free(phone);
	free(pc);
	free(out);
	free(back);
}

static void
test_compose_limits(void **state)
{
	struct spr_pidf_status *many = new_status(),
			       *one = pub("t0", "open", "busy", "2024-01-01T10:00:00Z");
	struct spr_pidf_status *out = new_status(), *empty = new_status();
	const struct spr_pidf_status *pubs[2] = {many, one};
	char doc[4096], *p = doc;

	p += sprintf(p, PRES_OPEN);
	for (int i = 0; i < 16; i++)
		p += sprintf(p, "<tuple id='t%d'><status><basic>open</basic></status></tuple>", i);
	sprintf(p, "</presence>");
	assert_int_equal(parse(doc, many), SPR_PIDF_OK);
	assert_int_equal(spr_pidf_compose(pubs, 1, out), 0);
	assert_int_equal(out->n_tuples, 16);
	assert_int_equal(spr_pidf_compose(pubs, 2, out), -E2BIG);
	/* nothing composes to nothing */
	assert_int_equal(spr_pidf_compose(pubs, 0, out), 0);
	assert_int_equal(out->n_tuples, 0);
	assert_false(out->has_person);
	spr_pidf_status_init(empty);
	pubs[0] = empty;
	assert_int_equal(spr_pidf_compose(pubs, 1, out), 0);
	free(many);
	free(one);
	free(out);
	free(empty);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3863_basic),
		cmocka_unit_test(test_rfc3863_prefixed),
		cmocka_unit_test(test_rfc4480),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_servcaps_and_cdata),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_why_sanitised),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_external_entities),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_too_many_tuples),
		cmocka_unit_test(test_round_trip_rfc4480),
		cmocka_unit_test(test_round_trip_escapes),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_mapping),
		cmocka_unit_test(test_no_tuples_offline),
		cmocka_unit_test(test_from_state_errors),
		cmocka_unit_test(test_build_closed),
		cmocka_unit_test(test_compose),
		cmocka_unit_test(test_compose_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
