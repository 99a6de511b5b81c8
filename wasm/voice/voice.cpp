// Anchors the chorus_voice library (CMake needs one source even before the voice sources exist);
// holds nothing else.
#include "voice/voice_frame.hpp"
