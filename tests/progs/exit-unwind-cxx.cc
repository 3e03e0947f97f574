// SPDX-License-Identifier: MIT
// pthread_exit in C++ unwinds as glibc's does: destructors of every
// frame run, innermost first, a std::lock_guard held across the exit is
// released (another thread then takes the mutex), and a catch (...) that
// rethrows sees the exit pass; from main, main's objects are destroyed and
// a thread blocked on the mutex main held runs after main's exit.
//
// Usage: exit-unwind-cxx
#include <pthread.h>

#include <cstdio>
#include <mutex>
#include <thread>

namespace {

std::mutex held;

struct Noisy {
    const char *name;
    ~Noisy() { std::printf("destroyed: %s\n", name); }
};

void descend(int depth)
{
    Noisy frame{depth == 0 ? "the deepest frame" : "a frame on the way"};
    if (depth == 0) {
        std::lock_guard<std::mutex> guard(held);
        try {
            pthread_exit(reinterpret_cast<void *>(5));
        } catch (...) {
            std::printf("catch (...) sees the exit and rethrows\n");
            throw;
        }
    }
    descend(depth - 1);
}

void *exiting(void *)
{
    Noisy start{"the start routine's object"};
    descend(2);
    std::printf("not reached\n");
    return nullptr;
}

}  // namespace

int main()
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    pthread_t t;
    void *result = nullptr;
    pthread_create(&t, nullptr, exiting, nullptr);
    pthread_join(t, &result);
    std::printf("joined: %ld\n", reinterpret_cast<long>(result));
    {
        std::lock_guard<std::mutex> guard(held);
        std::printf("main takes the mutex the exited thread held\n");
    }
    // Destroyed in reverse: main's object first, then the lock, which
    // only then lets the waiter print.
    std::unique_lock<std::mutex> mine(held);
    Noisy mains{"main's object"};
    std::thread waiter([] {
        std::lock_guard<std::mutex> guard(held);
        std::printf("a thread takes the mutex main held across its exit\n");
    });
    waiter.detach();
    pthread_exit(nullptr);
}
