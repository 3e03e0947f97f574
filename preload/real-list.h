/* SPDX-License-Identifier: MIT */
/* One line per interposed libc function: return type, name, parameter types.
 * preload/real.h turns it into the table green__real of the functions
 * libgreen wraps, looked up with dlsym(RTLD_NEXT) (the default version). */
GREEN_REAL(ssize_t, read, (int, void *, size_t))
GREEN_REAL(ssize_t, write, (int, const void *, size_t))
GREEN_REAL(ssize_t, readv, (int, const struct iovec *, int))
GREEN_REAL(ssize_t, writev, (int, const struct iovec *, int))
GREEN_REAL(ssize_t, pread, (int, void *, size_t, off_t))
GREEN_REAL(ssize_t, pwrite, (int, const void *, size_t, off_t))
GREEN_REAL(ssize_t, preadv, (int, const struct iovec *, int, off_t))
GREEN_REAL(ssize_t, pwritev, (int, const struct iovec *, int, off_t))
GREEN_REAL(ssize_t, preadv2, (int, const struct iovec *, int, off_t, int))
GREEN_REAL(ssize_t, pwritev2, (int, const struct iovec *, int, off_t, int))
GREEN_REAL(ssize_t, recv, (int, void *, size_t, int))
GREEN_REAL(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *,
                               socklen_t *))
GREEN_REAL(ssize_t, recvmsg, (int, struct msghdr *, int))
GREEN_REAL(ssize_t, send, (int, const void *, size_t, int))
GREEN_REAL(ssize_t, sendto, (int, const void *, size_t, int,
                             const struct sockaddr *, socklen_t))
GREEN_REAL(ssize_t, sendmsg, (int, const struct msghdr *, int))
GREEN_REAL(int, recvmmsg, (int, struct mmsghdr *, unsigned int, int,
                           struct timespec *))
GREEN_REAL(int, sendmmsg, (int, struct mmsghdr *, unsigned int, int))
GREEN_REAL(int, accept, (int, struct sockaddr *, socklen_t *))
GREEN_REAL(int, accept4, (int, struct sockaddr *, socklen_t *, int))
GREEN_REAL(int, connect, (int, const struct sockaddr *, socklen_t))
GREEN_REAL(ssize_t, sendfile, (int, int, off_t *, size_t))
GREEN_REAL(ssize_t, sendfile64, (int, int, off64_t *, size_t))
GREEN_REAL(ssize_t, splice, (int, loff_t *, int, loff_t *, size_t,
                             unsigned int))
GREEN_REAL(ssize_t, tee, (int, int, size_t, unsigned int))
GREEN_REAL(int, poll, (struct pollfd *, nfds_t, int))
GREEN_REAL(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *,
                        const sigset_t *))
GREEN_REAL(ssize_t, __read_chk, (int, void *, size_t, size_t))
GREEN_REAL(ssize_t, __pread_chk, (int, void *, size_t, off_t, size_t))
GREEN_REAL(ssize_t, __pread64_chk, (int, void *, size_t, off64_t, size_t))
GREEN_REAL(ssize_t, __recv_chk, (int, void *, size_t, size_t, int))
GREEN_REAL(ssize_t, __recvfrom_chk, (int, void *, size_t, size_t, int,
                                     struct sockaddr *, socklen_t *))
GREEN_REAL(int, __poll_chk, (struct pollfd *, nfds_t, int, size_t))
GREEN_REAL(int, __ppoll_chk, (struct pollfd *, nfds_t,
                              const struct timespec *, const sigset_t *,
                              size_t))
GREEN_REAL(int, epoll_wait, (int, struct epoll_event *, int, int))
GREEN_REAL(int, epoll_pwait, (int, struct epoll_event *, int, int,
                              const sigset_t *))
GREEN_REAL(int, epoll_pwait2, (int, struct epoll_event *, int,
                               const struct timespec *, const sigset_t *))
GREEN_REAL(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))
GREEN_REAL(int, pselect, (int, fd_set *, fd_set *, fd_set *,
                          const struct timespec *, const sigset_t *))
GREEN_REAL(unsigned int, sleep, (unsigned int))
GREEN_REAL(int, usleep, (useconds_t))
GREEN_REAL(int, nanosleep, (const struct timespec *, struct timespec *))
GREEN_REAL(int, clock_nanosleep, (clockid_t, int, const struct timespec *,
                                  struct timespec *))
GREEN_REAL(int, sched_yield, (void))
GREEN_REAL(int, pthread_create, (pthread_t *, const pthread_attr_t *,
                                 void *(*)(void *), void *))
GREEN_REAL(int, pthread_join, (pthread_t, void **))
GREEN_REAL(int, pthread_detach, (pthread_t))
GREEN_REAL(void, pthread_exit, (void *))
GREEN_REAL(pthread_t, pthread_self, (void))
GREEN_REAL(int, pthread_getattr_np, (pthread_t, pthread_attr_t *))
GREEN_REAL(int, pthread_tryjoin_np, (pthread_t, void **))
GREEN_REAL(int, pthread_clockjoin_np, (pthread_t, void **, clockid_t,
                                       const struct timespec *))
GREEN_REAL(int, pthread_setname_np, (pthread_t, const char *))
GREEN_REAL(int, pthread_getname_np, (pthread_t, char *, size_t))
GREEN_REAL(int, pthread_kill, (pthread_t, int))
GREEN_REAL(int, pthread_getcpuclockid, (pthread_t, clockid_t *))
GREEN_REAL(int, pthread_getschedparam, (pthread_t, int *,
                                        struct sched_param *))
GREEN_REAL(int, pthread_setschedparam, (pthread_t, int,
                                        const struct sched_param *))
GREEN_REAL(int, pthread_setschedprio, (pthread_t, int))
GREEN_REAL(int, pthread_getaffinity_np, (pthread_t, size_t, cpu_set_t *))
GREEN_REAL(int, pthread_setaffinity_np, (pthread_t, size_t,
                                         const cpu_set_t *))
GREEN_REAL(int, __cxa_thread_atexit_impl, (void (*)(void *), void *,
                                           void *))
GREEN_REAL(int, pthread_key_create, (pthread_key_t *, void (*)(void *)))
GREEN_REAL(int, pthread_key_delete, (pthread_key_t))
GREEN_REAL(void *, pthread_getspecific, (pthread_key_t))
GREEN_REAL(int, pthread_setspecific, (pthread_key_t, const void *))
GREEN_REAL(int, pthread_mutex_lock, (pthread_mutex_t *))
GREEN_REAL(int, pthread_mutex_trylock, (pthread_mutex_t *))
GREEN_REAL(int, pthread_mutex_timedlock, (pthread_mutex_t *,
                                          const struct timespec *))
GREEN_REAL(int, pthread_mutex_clocklock, (pthread_mutex_t *, clockid_t,
                                          const struct timespec *))
GREEN_REAL(int, pthread_mutex_unlock, (pthread_mutex_t *))
GREEN_REAL(int, pthread_rwlock_rdlock, (pthread_rwlock_t *))
GREEN_REAL(int, pthread_rwlock_wrlock, (pthread_rwlock_t *))
GREEN_REAL(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t *))
GREEN_REAL(int, pthread_rwlock_trywrlock, (pthread_rwlock_t *))
GREEN_REAL(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t *,
                                             const struct timespec *))
GREEN_REAL(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t *,
                                             const struct timespec *))
GREEN_REAL(int, pthread_rwlock_clockrdlock, (pthread_rwlock_t *, clockid_t,
                                             const struct timespec *))
GREEN_REAL(int, pthread_rwlock_clockwrlock, (pthread_rwlock_t *, clockid_t,
                                             const struct timespec *))
GREEN_REAL(int, pthread_rwlock_unlock, (pthread_rwlock_t *))
GREEN_REAL(int, sem_wait, (sem_t *))
GREEN_REAL(int, sem_trywait, (sem_t *))
GREEN_REAL(int, sem_timedwait, (sem_t *, const struct timespec *))
GREEN_REAL(int, sem_clockwait, (sem_t *, clockid_t, const struct timespec *))
GREEN_REAL(int, sem_post, (sem_t *))
GREEN_REAL(int, pthread_barrier_wait, (pthread_barrier_t *))
GREEN_REAL(int, pthread_once, (pthread_once_t *, void (*)(void)))
GREEN_REAL(int, pthread_spin_lock, (pthread_spinlock_t *))
GREEN_REAL(long, syscall, (long, ...))
GREEN_REAL(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *))
GREEN_REAL(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *,
                                         const struct timespec *))
GREEN_REAL(int, pthread_cond_clockwait, (pthread_cond_t *, pthread_mutex_t *,
                                         clockid_t, const struct timespec *))
GREEN_REAL(int, pthread_cond_signal, (pthread_cond_t *))
GREEN_REAL(int, pthread_cond_broadcast, (pthread_cond_t *))
GREEN_REAL(void, flockfile, (FILE *))
GREEN_REAL(int, ftrylockfile, (FILE *))
GREEN_REAL(void, funlockfile, (FILE *))
GREEN_REAL(int, setuid, (uid_t))
GREEN_REAL(int, setgid, (gid_t))
GREEN_REAL(int, seteuid, (uid_t))
GREEN_REAL(int, setegid, (gid_t))
GREEN_REAL(int, setreuid, (uid_t, uid_t))
GREEN_REAL(int, setregid, (gid_t, gid_t))
GREEN_REAL(int, setresuid, (uid_t, uid_t, uid_t))
GREEN_REAL(int, setresgid, (gid_t, gid_t, gid_t))
GREEN_REAL(int, setgroups, (size_t, const gid_t *))
GREEN_REAL(int, sigaction, (int, const struct sigaction *, struct sigaction *))
GREEN_REAL(int, pthread_sigmask, (int, const sigset_t *, sigset_t *))
GREEN_REAL(int, sigprocmask, (int, const sigset_t *, sigset_t *))
GREEN_REAL(int, sigpending, (sigset_t *))
GREEN_REAL(int, sigtimedwait, (const sigset_t *, siginfo_t *,
                               const struct timespec *))
GREEN_REAL(int, sigwait, (const sigset_t *, int *))
GREEN_REAL(int, sigsuspend, (const sigset_t *))
GREEN_REAL(int, pause, (void))
GREEN_REAL(int, pthread_sigqueue, (pthread_t, int, const union sigval))
GREEN_REAL(int, close, (int))
GREEN_REAL(int, socket, (int, int, int))
GREEN_REAL(int, socketpair, (int, int, int, int *))
GREEN_REAL(int, pipe2, (int *, int))
GREEN_REAL(int, fcntl, (int, int, long))
GREEN_REAL(int, ioctl, (int, unsigned long, void *))
GREEN_REAL(int, setsockopt, (int, int, int, const void *, socklen_t))
GREEN_REAL(int, dup, (int))
GREEN_REAL(int, posix_spawn, (pid_t *, const char *,
                              const posix_spawn_file_actions_t *,
                              const posix_spawnattr_t *, char *const *,
                              char *const *))
GREEN_REAL(int, posix_spawnp, (pid_t *, const char *,
                               const posix_spawn_file_actions_t *,
                               const posix_spawnattr_t *, char *const *,
                               char *const *))
GREEN_REAL(int, system, (const char *))
GREEN_REAL(FILE *, popen, (const char *, const char *))
GREEN_REAL(pid_t, _Fork, (void))
GREEN_REAL(int, execve, (const char *, char *const *, char *const *))
GREEN_REAL(int, execv, (const char *, char *const *))
GREEN_REAL(int, execvp, (const char *, char *const *))
GREEN_REAL(int, execvpe, (const char *, char *const *, char *const *))
GREEN_REAL(int, fexecve, (int, char *const *, char *const *))
GREEN_REAL(int, execveat, (int, const char *, char *const *, char *const *,
                           int))
GREEN_REAL(int, dup2, (int, int))
GREEN_REAL(int, dup3, (int, int, int))
GREEN_REAL(int, close_range, (unsigned int, unsigned int, int))
GREEN_REAL(void, closefrom, (int))
GREEN_REAL(int, fclose, (FILE *))
GREEN_REAL(FILE *, freopen, (const char *, const char *, FILE *))
GREEN_REAL(FILE *, freopen64, (const char *, const char *, FILE *))
GREEN_REAL(int, pclose, (FILE *))
GREEN_REAL(int, closedir, (DIR *))
GREEN_REAL(int, fcloseall, (void))
GREEN_REAL(int, epoll_create, (int))
GREEN_REAL(int, epoll_create1, (int))
GREEN_REAL(pid_t, wait4, (pid_t, int *, int, struct rusage *))
GREEN_REAL(pid_t, waitpid, (pid_t, int *, int))
GREEN_REAL(pid_t, wait, (int *))
GREEN_REAL(pid_t, wait3, (int *, int, struct rusage *))
GREEN_REAL(int, waitid, (idtype_t, id_t, siginfo_t *, int))
GREEN_REAL(int, getaddrinfo, (const char *, const char *,
                              const struct addrinfo *, struct addrinfo **))
GREEN_REAL(int, getnameinfo, (const struct sockaddr *, socklen_t, char *,
                              socklen_t, char *, socklen_t, int))
GREEN_REAL(struct hostent *, gethostbyname, (const char *))
GREEN_REAL(struct hostent *, gethostbyname2, (const char *, int))
GREEN_REAL(struct hostent *, gethostbyaddr, (const void *, socklen_t, int))
GREEN_REAL(int, gethostbyname_r, (const char *, struct hostent *, char *,
                                  size_t, struct hostent **, int *))
GREEN_REAL(int, gethostbyname2_r, (const char *, int, struct hostent *,
                                   char *, size_t, struct hostent **, int *))
GREEN_REAL(int, gethostbyaddr_r, (const void *, socklen_t, int,
                                  struct hostent *, char *, size_t,
                                  struct hostent **, int *))
GREEN_REAL(int, fgetc, (FILE *))
GREEN_REAL(int, getc, (FILE *))
GREEN_REAL(int, _IO_getc, (FILE *))
GREEN_REAL(int, getchar, (void))
GREEN_REAL(int, fgetc_unlocked, (FILE *))
GREEN_REAL(int, getc_unlocked, (FILE *))
GREEN_REAL(int, getchar_unlocked, (void))
GREEN_REAL(int, __uflow, (FILE *))
GREEN_REAL(int, __underflow, (FILE *))
GREEN_REAL(char *, fgets, (char *, int, FILE *))
GREEN_REAL(char *, fgets_unlocked, (char *, int, FILE *))
GREEN_REAL(char *, __fgets_chk, (char *, size_t, int, FILE *))
GREEN_REAL(char *, __fgets_unlocked_chk, (char *, size_t, int, FILE *))
GREEN_REAL(ssize_t, getdelim, (char **, size_t *, int, FILE *))
GREEN_REAL(ssize_t, getline, (char **, size_t *, FILE *))
GREEN_REAL(size_t, fread, (void *, size_t, size_t, FILE *))
GREEN_REAL(size_t, fread_unlocked, (void *, size_t, size_t, FILE *))
GREEN_REAL(size_t, __fread_chk, (void *, size_t, size_t, size_t, FILE *))
GREEN_REAL(size_t, __fread_unlocked_chk,
           (void *, size_t, size_t, size_t, FILE *))
GREEN_REAL(int, vfscanf, (FILE *, const char *, va_list))
GREEN_REAL(int, __isoc99_vfscanf, (FILE *, const char *, va_list))
