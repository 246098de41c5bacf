/*
 * mb: Modbus bus specs, unit lists, register types, request planning,
 * decoding and error words.  Parsers write a message into the caller's
 * buffer and return -1; mb_connect() returns a libmodbus context the caller
 * owns (modbus_close + modbus_free), or NULL with errno.
 */
#ifndef GXKIT_MB_H
#define GXKIT_MB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <modbus/modbus.h>

#define MB_MAX_UNIT  247
#define MB_MAX_READ  125 /* registers in one read request */
#define MB_MAX_WRITE 123 /* registers in one function 16 request */

struct mb_bus {
	enum { MB_RTU, MB_TCP } kind;
	char device[256]; /* RTU */
	int baud, data_bits, stop_bits;
	char parity;    /* 'N', 'E', 'O' */
	char host[256]; /* TCP */
	int port;
	char spec[300]; /* as given, for records */
};

/* "rtu:DEVICE[:BAUD[:8N1|8E1|8O1|8N2]]" or "tcp:HOST[:PORT]". */
int mb_parse_bus(const char *spec, struct mb_bus *bus, char *err,
                 size_t errlen);
/* A TCP host that does not resolve (errno, beside libmodbus's). */
#define MB_ERESOLVE (MODBUS_ENOBASE + 200)
/* Whether a TCP bus's host resolves (getaddrinfo): 0, or -1 with errno
 * MB_ERESOLVE.  An RTU bus does. */
int mb_resolve(const struct mb_bus *bus);
/* A new context, not connected: TCP by name or address (libmodbus's
 * protocol-independent one); NULL + errno. */
modbus_t *mb_new(const struct mb_bus *bus);
/* A new, connected context with the response timeout set; NULL + errno. */
modbus_t *mb_connect(const struct mb_bus *bus, uint64_t timeout_ms);

/* "1", "1,5", "1-10,12": units[i] set for each id; ids outside 1..max
 * are refused.  Returns the count, or -1. */
int mb_parse_units(const char *spec, bool units[256], int max, char *err,
                   size_t errlen);
/*
 * -b SPEC and -u IDS as every Modbus tool takes them (units NULL: the
 * tool's default_units; RTU ids end at 247, TCP's at 255).  Returns the
 * count of units, or -1 with the whole usage message in err ("which bus:
 * give -b SPEC", the spec's fault, "--units: ...").
 */
int mb_parse_bus_units(const char *bus, const char *units,
                       const char *default_units, struct mb_bus *b,
                       bool set[256], char *err, size_t errlen);

enum mb_type { MB_U16, MB_S16, MB_U32, MB_S32, MB_U64, MB_S64, MB_F32, MB_STR };

enum mb_fc { MB_INPUT = 4, MB_HOLDING = 3 };
struct mb_reg;

/* Function 4 or 3 as fc says; libmodbus's return (count, or -1). */
int mb_read(modbus_t *ctx, enum mb_fc fc, int address, int count,
            uint16_t *dest);

/* A register (or run of registers) to read and how to turn it into a
 * value; what regmap parses and what -r builds. */
struct mb_reg {
	char *name;
	enum mb_fc fc;
	uint16_t address;
	enum mb_type type;
	int words;      /* registers it spans */
	bool low_first; /* "le": low word first */
	double scale;
	char *unit, *dbus_path, *description;
	long *text_raw; /* enum: raw values ... */
	char **text;    /* ... and their labels */
	size_t ntext;
	long *invalid; /* raw values meaning "no value" */
	size_t ninvalid;
	bool writable; /* the map's write column: MIN..MAX, scaled */
	double write_min, write_max;
};
/* Free the strings and arrays of one register (regmap_free does all). */
void mb_reg_free(struct mb_reg *r);

/* "u16", "s32le", "f32", "str:10": type and word count; -1 if unknown. */
int mb_parse_type(const char *s, enum mb_type *type, int *words,
                  bool *low_first);

/* A decoded value: a number, a string, or nothing (invalid raw). */
struct mb_value {
	enum { MB_NUMBER, MB_TEXT, MB_NONE } kind;
	double num;
	int64_t raw;
	char text[128];    /* MB_TEXT: the string */
	const char *label; /* enum label of the raw value, or NULL */
};
void mb_decode(const struct mb_reg *r, const uint16_t *words,
               struct mb_value *out);
/* May value be written to r: the map marks it writable and value is in
 * its limits (NaN never is). */
bool mb_write_allowed(const struct mb_reg *r, double value);
/* The inverse, for the simulator: raw value into words. */
void mb_encode(const struct mb_reg *r, double value, const char *text,
               uint16_t *words);

/* One read request: function code, first register, count. */
struct mb_request {
	enum mb_fc fc;
	uint16_t address, count;
};
/*
 * The fewest requests that read every register of regs[] (of any fc),
 * each at most max_count long, bridging holes of at most max_hole
 * registers.  Writes at most cap requests; returns how many are needed.
 */
size_t mb_plan(const struct mb_reg *regs, size_t n, int max_count, int max_hole,
               struct mb_request *out, size_t cap);

/*
 * Writes to the holding registers *regs[0..n) as the fewest requests:
 * order[] gets their indices by address, and each run of registers that
 * follow each other without a gap, at most MB_MAX_WRITE long, is one
 * request in out[] (which has room for n).  Returns the count, or -1 when
 * two of them share a register (their indices in clash[]).
 */
int mb_plan_writes(const struct mb_reg *const *regs, size_t n, size_t *order,
                   struct mb_request *out, size_t clash[2]);

/* The machine word of a failed request: timeout, exception, crc, io,
 * closed; and whether the connection should be reopened. */
const char *mb_error_word(int err);
/* For people: "no response from unit 3 within 300 ms", "no such host: x",
 * else libmodbus's words; written into buf. */
const char *mb_error_message(char *buf, size_t cap, int err,
                             const struct mb_bus *bus, int unit,
                             uint64_t timeout_ms);
bool mb_error_needs_reconnect(int err);

#endif
