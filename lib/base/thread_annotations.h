// Clang's thread-safety analysis (-Wthread-safety) as macros: lock rules
// written on the declarations and checked at compile time. Under other
// compilers (g++) the macros expand to nothing.
//
//   Mutex mu_;
//   std::vector<Event> events_ GUARDED_BY(mu_);
//   void add(Event e) EXCLUDES(mu_);
//
// Only types marked CAPABILITY can be named; libstdc++'s std::mutex is not,
// so shared state is guarded by tearline::Mutex (base/mutex.h).
#pragma once

#if defined(__clang__)
#define TEARLINE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TEARLINE_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) TEARLINE_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY TEARLINE_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) TEARLINE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) TEARLINE_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) TEARLINE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) TEARLINE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) TEARLINE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) TEARLINE_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) TEARLINE_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) TEARLINE_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) TEARLINE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) TEARLINE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define RETURN_CAPABILITY(x) TEARLINE_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS TEARLINE_THREAD_ANNOTATION(no_thread_safety_analysis)
