# Writes OUT, a C++ file defining switchyard::kEmbeddedDefaultConfig with the text of IN.
file(READ ${IN} CONTENT)
set(DELIM "SWYCFG")
file(WRITE ${OUT} "// Generated from examples/switchyard.yaml; do not edit.\nnamespace switchyard {\nextern const char* const kEmbeddedDefaultConfig;\nconst char* const kEmbeddedDefaultConfig = R\"${DELIM}(${CONTENT})${DELIM}\";\n}  // namespace switchyard\n")
