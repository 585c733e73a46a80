/* ThreadSanitizer annotations shared by the prosody elements.
 *
 * ThreadSanitizer cannot see GLib's futex-based locks, through which an
 * element and its buffers pass from the application thread to streaming
 * threads (GstTask starts them from a GThreadPool): mark the hand-over (the
 * tests mark their side too), so that only real races are reported. The
 * marks compile to nothing in other builds; the elements take GstObject
 * locks through PROSODY_OBJECT_LOCK/UNLOCK for the same reason. */
#ifndef __PROSODY_TSAN_H__
#define __PROSODY_TSAN_H__

#include <gst/gst.h>

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#define PROSODY_TSAN_ACQUIRE(p) __tsan_acquire((void*)(p))
#define PROSODY_TSAN_RELEASE(p) __tsan_release((void*)(p))
#else
#define PROSODY_TSAN_ACQUIRE(p) ((void)0)
#define PROSODY_TSAN_RELEASE(p) ((void)0)
#endif

/* For a function a streaming thread calls: it sees what came before, and
 * what it did is seen by whoever comes next (the finalizer included, after
 * a refcount drop ThreadSanitizer cannot see either). */
class ProsodyTsanScope {
 public:
  explicit ProsodyTsanScope(const void* object) : object_(object) { PROSODY_TSAN_ACQUIRE(object_); }
  ~ProsodyTsanScope() { PROSODY_TSAN_RELEASE(object_); }
  ProsodyTsanScope(const ProsodyTsanScope&) = delete;
  ProsodyTsanScope& operator=(const ProsodyTsanScope&) = delete;

 private:
  const void* object_;
};

/* GST_OBJECT_LOCK is a GMutex too: these take it and tell ThreadSanitizer. */
#define PROSODY_OBJECT_LOCK(obj)                    \
  G_STMT_START {                                    \
    GST_OBJECT_LOCK(obj);                           \
    PROSODY_TSAN_ACQUIRE(GST_OBJECT_GET_LOCK(obj)); \
  }                                                 \
  G_STMT_END
#define PROSODY_OBJECT_UNLOCK(obj)                  \
  G_STMT_START {                                    \
    PROSODY_TSAN_RELEASE(GST_OBJECT_GET_LOCK(obj)); \
    GST_OBJECT_UNLOCK(obj);                         \
  }                                                 \
  G_STMT_END

#endif /* __PROSODY_TSAN_H__ */
