// The firmware's board on a desktop: the same program as a process, so its
// report can be compared with the one from the emulated Cortex-M7.
#include <stdio.h>
#include <stdlib.h>

#include "board.h"

void BoardPrint(const char* text) { fputs(text, stdout); }

FlashRegion BoardStateFlash() {
  static uint8_t flash[512 * 1024];
  return {flash, sizeof(flash)};
}

void BoardExit(bool ok) {
  fflush(stdout);
  exit(ok ? 0 : 1);
}

int main() { BoardExit(FirmwareMain() == 0); }
