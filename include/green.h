/* SPDX-License-Identifier: MIT */
/* libgreen's small optional public API. Unmodified programs never need it
 * (and the tests never use it); a program that knows about libgreen may
 * ask whether it is running on green threads. */
#ifndef GREEN_H
#define GREEN_H

#define GREEN_VERSION_MAJOR 0
#define GREEN_VERSION_MINOR 1

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if the calling thread is a green thread of a running libgreen
 * runtime, 0 otherwise. Callable from any thread, any time. */
int green_is_green(void);

#ifdef __cplusplus
}
#endif

#endif
