/*
 * yaml_out.c - YAML scalars for a writer that builds documents by hand.
 *
 * Invariant: what yaml_out_scalar writes reads back, with libyaml (YAML
 * 1.1) as with a YAML 1.2 reader, as a string equal to its input.  Plain
 * style is kept for the common harmless words (names, images, paths,
 * sizes like 256Mi); anything that could be a number, a boolean, a null,
 * a timestamp, an indicator, a comment or a mapping key is double-quoted.
 */
#include <string.h>
#include <strings.h>

#include "yaml_out.h"

static bool is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

/* Words YAML 1.1 or 1.2 resolve to null or a boolean, in any case. */
static bool is_special_word(const char *s)
{
	static const char *const words[] = {
		"null", "~", "true", "false", "yes", "no", "on", "off", "y", "n",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

/*
 * A string starting with a digit, a sign or a dot may be an integer (in
 * any base, with '_' or sexagesimal ':'), a float, .inf, .nan or a
 * timestamp: plain only with a letter none of those spellings uses.
 */
static bool may_be_number(const char *s)
{
	const char *p = s;

	if (!((*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.'))
		return false;
	if (*p == '+' || *p == '-')
		p++;
	if (!strcasecmp(p, ".inf") || !strcasecmp(p, ".nan"))
		return true;
	for (; *p; p++)
		if (is_alnum(*p) && !strchr("0123456789abcdefABCDEFxXoObBtTzZ", *p))
			return false;
	return true;
}

bool yaml_out_plain_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':')
		return false;
	/* indicators and reserved characters that may not start a plain
	 * scalar, '=' (1.1's value type) and '~' (null); "- " starts an
	 * item, and a lone "-" is one */
	if (strchr("?:,[]{}#&*!|>'\"%@`=~", s[0]) ||
	    (s[0] == '-' && (s[1] == ' ' || !s[1])))
		return false;
	if (is_special_word(s) || may_be_number(s))
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (is_alnum(ch) || strchr("_./-+=~@", ch))
			continue;
		/* ": " makes a key, " #" a comment; two spaces fold to one
		 * in no reader, but stay out of the way of every one */
		if (ch == ':' && s[i + 1] != ' ')
			continue;
		if (ch == ' ' && s[i + 1] != '#' && s[i + 1] != ' ')
			continue;
		return false;
	}
	return true;
}

/* The code point at p (valid UTF-8, lead byte >= 0x80) and its length. */
static unsigned long utf8_decode(const unsigned char *p, size_t *len)
{
	if (p[0] < 0xe0 && (p[1] & 0xc0) == 0x80) {
		*len = 2;
		return ((p[0] & 0x1ful) << 6) | (p[1] & 0x3f);
	}
	if (p[0] < 0xf0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
		*len = 3;
		return ((p[0] & 0x0ful) << 12) | ((p[1] & 0x3ful) << 6) |
		       (p[2] & 0x3f);
	}
	*len = 1;      /* 4-byte sequences and stray bytes go through as is */
	return 0;
}

void yaml_out_scalar(struct buf *out, const char *s)
{
	const unsigned char *p;
	unsigned long cp;
	size_t len;

	if (yaml_out_plain_ok(s)) {
		buf_puts(out, s);
		return;
	}
	buf_putc(out, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': buf_puts(out, "\\\""); continue;
		case '\\': buf_puts(out, "\\\\"); continue;
		case '\n': buf_puts(out, "\\n"); continue;
		case '\t': buf_puts(out, "\\t"); continue;
		case '\r': buf_puts(out, "\\r"); continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			buf_printf(out, "\\x%02x", *p);
			continue;
		}
		if (*p < 0x80) {
			buf_putc(out, (char)*p);
			continue;
		}
		/* what a reader takes for a line break (U+0085, U+2028,
		 * U+2029: folded in quotes) or refuses raw (C1 controls, the
		 * byte order mark, U+FFFE, U+FFFF) is escaped */
		cp = utf8_decode(p, &len);
		if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
		    cp == 0xfeff || cp == 0xfffe || cp == 0xffff)
			buf_printf(out, "\\u%04lx", cp);
		else
			buf_add(out, p, len);
		p += len - 1;
	}
	buf_putc(out, '"');
}
