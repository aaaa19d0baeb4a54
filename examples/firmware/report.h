// The firmware examples' one line of output, "name=0x%08x ...", without printf
// (newlib's would pull in malloc).
#pragma once

#include <stdint.h>
#include <string.h>

inline uint32_t Bits(float f) {
  uint32_t b;
  memcpy(&b, &f, 4);
  return b;
}

class Report {
 public:
  void Add(const char* name, uint32_t v) {
    while (*name) *at_++ = *name++;
    *at_++ = '=', *at_++ = '0', *at_++ = 'x';
    for (int shift = 28; shift >= 0; shift -= 4) *at_++ = "0123456789abcdef"[(v >> shift) & 0xF];
    *at_++ = ' ';
  }
  const char* Line() {
    at_[-1] = '\n', *at_ = '\0';
    return line_;
  }

 private:
  char line_[240] = {};
  char* at_ = line_;
};
