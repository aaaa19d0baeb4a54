// What the firmware needs from its board: a line of text out, and an end.
#pragma once

#include <stddef.h>
#include <stdint.h>

int FirmwareMain();  // the program (main.cc); the board calls it and exits with its result

void BoardPrint(const char* text);
// A flash region for a state image, and how to program it (a byte copy on the emulated
// board, whose code memory is writable; real flash would erase and program pages here).
struct FlashRegion {
  uint8_t* start;
  size_t size;
};
FlashRegion BoardStateFlash();
[[noreturn]] void BoardExit(bool ok);
