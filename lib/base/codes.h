// Forwards to the public error codes (include/tearline/codes.h).
#pragma once

#include <tearline/codes.h>
