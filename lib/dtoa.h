/*
 * dtoa: the shortest decimal digits of a double, fast (Loitsch's Grisu3
 * over a table of powers of ten this module computes exactly, once).  It
 * owns that table; the caller owns the buffers.  Grisu3 declines about
 * one value in two hundred, which dtoa_shortest() reports by returning 0
 * so that the caller can fall back to an exact (slower) method.
 */
#ifndef GXKIT_DTOA_H
#define GXKIT_DTOA_H

/*
 * Digits of a positive finite double v: writes up to 17 digits to digits
 * (no terminator) and sets *point so that v = 0.DIGITS x 10^point.
 * Returns the number of digits, or 0 when Grisu3 cannot prove them
 * shortest and correct.
 */
int dtoa_shortest(double v, char digits[18], int *point);

/*
 * Format digits as printf's %g would with precision ndigits: plain
 * notation for 1e-5 <= |v| < 10^ndigits, else d.ddde+XX.  Returns the
 * length written to buf (32 bytes, NUL-terminated).
 */
int dtoa_format(char *buf, int negative, const char *digits, int ndigits,
                int point);

#endif
