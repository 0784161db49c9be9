/* Run inside a container by SecurityTest: tries the key-management calls Docker's seccomp
 * profile refuses (keyctl, add_key, request_key) and prints the errno of each ("0" when the
 * call succeeded). Static: the busybox image has no libc. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEY_SPEC_SESSION_KEYRING (-3)
#define KEYCTL_GET_KEYRING_ID 0

static int err(long rc) { return rc < 0 ? errno : 0; }

int main(void) {
  int k = err(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  int a = err(syscall(SYS_add_key, "user", "berth-probe", "x", 1, KEY_SPEC_SESSION_KEYRING));
  int r = err(syscall(SYS_request_key, "user", "berth-probe", NULL, 0));
  printf("keyctl=%d add_key=%d request_key=%d\n", k, a, r);
  return 0;
}
