/*
 * venus: the naming rules of Venus OS devices, as string work only:
 * service names com.victronenergy.TYPE.NAME and their {unit}/{serial}
 * templates, the settings ident of a device, /Mgmt/Connection,
 * "class:instance" values, and /Ac/PowerLimit as a rate-limited percent.
 * Nothing here allocates or talks to a bus;
 * functions fill the caller's buffers and return 0, or -1 with a message
 * in err.
 */
#ifndef GXKIT_VENUS_H
#define GXKIT_VENUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VENUS_PREFIX "com.victronenergy."

/*
 * A service name or template: "com.victronenergy.TYPE.NAME" where NAME may
 * hold {unit} and {serial}.  Gives TYPE and whether the name differs per
 * unit.  Placeholders in TYPE, unknown placeholders and stray braces are
 * refused.
 */
int venus_parse_template(const char *tmpl, char *type, size_t typelen,
                         bool *per_unit, char *err, size_t errlen);
/* The name for one device: {unit} as decimal, {serial} with every
 * character outside [A-Za-z0-9_] as "_" (serial NULL: refused). */
int venus_expand(const char *tmpl, int unit, const char *serial, char *out,
                 size_t len, char *err, size_t errlen);

/*
 * The settings ident: "<vendor>_<serial>" when serial is known (Victron's
 * Modbus drivers), else the service name's last element; characters
 * outside [A-Za-z0-9_] become "_", so the ident is one object path
 * element (localsettings fails the whole AddSettings call otherwise).
 */
void venus_ident(const char *vendor, const char *serial, const char *service,
                 char *out, size_t len);

/*
 * /Mgmt/Connection as Victron's Modbus drivers write it, from a gw-read
 * record's bus spec and unit: "Modbus RTU ttyUSB0:1", "Modbus TCP
 * 192.0.2.10:1".  A bus that is no spec is kept as it is.
 */
void venus_connection(const char *bus, int unit, char *out, size_t len);

/* "pvinverter:20" into class and instance; -1 when it is not that form. */
int venus_class_instance(const char *s, char *cls, size_t clslen,
                         long *instance);

/*
 * /Ac/PowerLimit (W, as Venus writes it for ESS and feed-in limits) as an
 * inverter's active power rate in percent of max_w, written sparingly:
 * Venus may write the limit every few seconds and the inverter keeps it in
 * flash.  A percent goes out only when it differs from the last one sent,
 * and at most once per min_interval_ms; one that must wait is kept and
 * sent when due.  The caller owns the struct; all times are monotonic ms.
 */
struct venus_limit {
	double max_w;
	uint64_t min_interval_ms;
	int sent_pct; /* -1 before the first */
	uint64_t sent_ms;
	int pending_pct; /* -1 when none waits */
};
void venus_limit_init(struct venus_limit *l, double max_w,
                      uint64_t min_interval_ms);
/* Percent of max_w for watts, rounded and bounded to 0..100 as
 * dbus-fronius does (software/src/sunspec_updater.cpp,
 * SunspecUpdater::onPowerLimitRequested: hub4control may ask for more than
 * the inverter has); -1 for NaN or while max_w is unknown (0). */
int venus_limit_percent(const struct venus_limit *l, double watts);
/* A SetValue of pct at now: the percent to send now, or -1 (nothing new,
 * or kept until due). */
int venus_limit_request(struct venus_limit *l, int pct, uint64_t now);
/* A kept percent whose time has come (-1: none); *due_ms when one waits. */
int venus_limit_due(struct venus_limit *l, uint64_t now, uint64_t *due_ms);
double venus_limit_watts(const struct venus_limit *l, double pct);

#endif
