// Forwards to the public error model (include/tearline/status.h).
#pragma once

#include <tearline/status.h>
