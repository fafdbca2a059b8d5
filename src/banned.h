/*
 * banned.h - libc functions cara must not call, turned into compile errors.
 *
 * A call to a banned function expands to an undeclared identifier that
 * names it, e.g. "'strcpy_is_banned_see_src_banned_h' undeclared", so the
 * build stops at the call.  util.h includes this header last; a .c file
 * that needs nothing of util.h includes it itself.  "make lint" checks
 * that every translation unit reaches it.
 *
 * Why each is banned, and what to use instead:
 *   strcpy strcat strncpy strncat sprintf vsprintf gets
 *       no bound, or a bound that truncates silently or leaves no NUL:
 *       struct buf (buf_addstr, buf_addf), xstrdup, xasprintf, snprintf
 *       into a buffer whose size is checked.
 *   strtok
 *       hidden static state and writes into its input: strchr, strcspn,
 *       or strtok_r when a copy is already at hand.
 *   atoi atol atoll atof
 *       no error, no range, trailing junk accepted: strtol / strtoll /
 *       strtod with errno and an end pointer, as parse_ll in util.c does.
 *   tmpnam tempnam mktemp
 *       a name, not a file: another process can take it first, and cara
 *       runs as root; mkstemp and mkdtemp create atomically.
 *   gmtime localtime ctime asctime
 *       return static storage shared by every thread: gmtime_r and
 *       localtime_r with a caller's struct tm.
 *   system popen execlp execvp execvpe
 *       a shell, or a PATH search that falls back to running a file
 *       through /bin/sh: cara, holding root power, never spawns a shell.
 *       It looks up the programs it runs in PATH itself and starts them
 *       with fork and execve (tool.c), an argument vector and no shell.
 *
 * The system headers that declare these are included here first, so that
 * their declarations are read before the macros exist; a later #include
 * of them in a .c file is then a no-op behind their include guards.
 *
 * The unit tests drive git and docker through a shell to set up their
 * fixtures; a test file that must defines CARA_BANNED_ALLOW_SHELL before
 * its first #include.  No file under src/ may ("make lint" checks).
 */
#ifndef CARA_BANNED_H
#define CARA_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BANNED(f) f##_is_banned_see_src_banned_h

/* (each #undef drops a libc or fortify macro of the same name, if any) */
#undef strcpy
#define strcpy(...) BANNED(strcpy)
#undef strcat
#define strcat(...) BANNED(strcat)
#undef strncpy
#define strncpy(...) BANNED(strncpy)
#undef strncat
#define strncat(...) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(...) BANNED(gets)

#undef strtok
#define strtok(...) BANNED(strtok)

#undef atoi
#define atoi(...) BANNED(atoi)
#undef atol
#define atol(...) BANNED(atol)
#undef atoll
#define atoll(...) BANNED(atoll)
#undef atof
#define atof(...) BANNED(atof)

#undef tmpnam
#define tmpnam(...) BANNED(tmpnam)
#undef tempnam
#define tempnam(...) BANNED(tempnam)
#undef mktemp
#define mktemp(...) BANNED(mktemp)

#undef gmtime
#define gmtime(...) BANNED(gmtime)
#undef localtime
#define localtime(...) BANNED(localtime)
#undef ctime
#define ctime(...) BANNED(ctime)
#undef asctime
#define asctime(...) BANNED(asctime)

#ifndef CARA_BANNED_ALLOW_SHELL
#undef system
#define system(...) BANNED(system)
#undef popen
#define popen(...) BANNED(popen)
#undef execlp
#define execlp(...) BANNED(execlp)
#undef execvp
#define execvp(...) BANNED(execvp)
#undef execvpe
#define execvpe(...) BANNED(execvpe)
#endif

#endif
