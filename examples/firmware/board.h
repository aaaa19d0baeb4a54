// What the firmware needs from its board: a line of text out, and an end.
#pragma once

int FirmwareMain();  // the program (main.cc); the board calls it and exits with its result

void BoardPrint(const char* text);
[[noreturn]] void BoardExit(bool ok);
