// MetadataFilter: which chunks a search may return, decided on the chunk's metadata (the
// document's user key/values, every value a string). A filter is a conjunction of clauses on
// named fields: equality, membership ("in"), numeric range (values parsed as numbers) and
// string prefix. A clause on a field the chunk does not have FAILS (so {"year":{"gte":2020}}
// never returns a chunk without a year); a range clause on a value that is not a number
// fails too. An empty filter matches everything.
// Use it inside a search through the chunk ids, e.g.
//   index.search(query, 10, [&](uint64_t id) { return filter.matches(metadata_of(id)); });
// Thread safety: immutable after construction; matches() may run on any number of threads.
// Failure: parse_json() returns invalid_request naming the field and what is wrong (not an
// object, unknown operator, wrong value type, empty "in", min above max); never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/error.hpp"
#include "switchyard/rag/chunking/chunk.hpp"

namespace switchyard::rag {

enum class FilterOp {
    kEquals,  // value == one of `values` (exactly one)
    kIn,      // value is one of `values`
    kRange,   // min <= number(value) <= max (each bound optional, inclusive or not)
    kPrefix,  // value starts with values[0]
};

struct FilterClause {
    std::string field{};
    FilterOp op = FilterOp::kEquals;
    std::vector<std::string> values{};  // kEquals, kIn, kPrefix
    // kEquals/kIn written as JSON numbers compare numerically ("2020.0" equals 2020).
    std::vector<double> numbers{};
    std::optional<double> min{};
    std::optional<double> max{};
    bool min_inclusive = true;
    bool max_inclusive = true;
};

class MetadataFilter {
public:
    MetadataFilter() = default;

    // {"source":{"prefix":"docs/"},"year":{"gte":2020},"lang":{"in":["en","de"]},"team":"core"}
    // A field maps to a string, number or boolean (equality) or to an object of operators,
    // all of which must hold: "eq", "in" (a non-empty array of strings or numbers), "prefix"
    // (a string), "gt", "gte", "lt", "lte" (numbers). Booleans compare as "true"/"false".
    static Result<MetadataFilter> parse_json(std::string_view json);

    MetadataFilter& equals(std::string field, std::string value);
    MetadataFilter& in(std::string field, std::vector<std::string> values);
    MetadataFilter& range(std::string field, std::optional<double> min, std::optional<double> max,
                          bool min_inclusive = true, bool max_inclusive = true);
    MetadataFilter& prefix(std::string field, std::string prefix);
    MetadataFilter& add(FilterClause clause);

    // True when every clause holds for `metadata` (the first value of a repeated key counts).
    bool matches(const Metadata& metadata) const;
    bool empty() const { return clauses_.empty(); }
    const std::vector<FilterClause>& clauses() const { return clauses_; }

private:
    std::vector<FilterClause> clauses_;
};

// A metadata value read as a number (the whole string: "2020", "-1.5e3"); nullopt otherwise.
std::optional<double> parse_number(std::string_view value);

}  // namespace switchyard::rag
