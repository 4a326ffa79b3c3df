#include "switchyard/rag/metadata_filter.hpp"

#include <simdjson.h>

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace switchyard::rag {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

Error filter_error(std::string_view field, std::string message) {
    return Error::invalid_request(field.empty()
                                      ? fmt::format("filters: {}", message)
                                      : fmt::format("filters: field \"{}\": {}", field, message),
                                  "filters", "invalid_filter");
}

std::string_view type_name(const element& e) {
    switch (e.type()) {
        case element_type::ARRAY:
            return "an array";
        case element_type::OBJECT:
            return "an object";
        case element_type::INT64:
        case element_type::UINT64:
        case element_type::DOUBLE:
            return "a number";
        case element_type::STRING:
            return "a string";
        case element_type::BOOL:
            return "a boolean";
        case element_type::NULL_VALUE:
            return "null";
    }
    return "a value";
}

bool is_number(const element& e) {
    const auto t = e.type();
    return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

double number_of(const element& e) {
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    switch (e.type()) {
        case element_type::INT64:
            return e.get(i) ? 0.0 : static_cast<double>(i);
        case element_type::UINT64:
            return e.get(u) ? 0.0 : static_cast<double>(u);
        default:
            return e.get(d) ? 0.0 : d;
    }
}

std::string_view string_of(const element& e) {
    std::string_view s;
    return e.get(s) ? std::string_view() : s;
}

// Adds a scalar (string, number or boolean) to an equality/in clause; false if it is not one.
bool add_scalar(const element& e, FilterClause& clause) {
    if (e.type() == element_type::STRING) {
        clause.values.emplace_back(string_of(e));
        return true;
    }
    if (e.type() == element_type::BOOL) {
        bool b = false;
        if (e.get(b)) return false;
        clause.values.emplace_back(b ? "true" : "false");
        return true;
    }
    if (is_number(e)) {
        clause.numbers.push_back(number_of(e));
        return true;
    }
    return false;
}

const std::string* find_value(const Metadata& metadata, std::string_view field) {
    for (const auto& [key, value] : metadata) {
        if (key == field) return &value;
    }
    return nullptr;
}

bool clause_holds(const FilterClause& clause, const std::string& value) {
    switch (clause.op) {
        case FilterOp::kEquals:
        case FilterOp::kIn: {
            for (const auto& v : clause.values) {
                if (v == value) return true;
            }
            if (clause.numbers.empty()) return false;
            const auto number = parse_number(value);
            if (!number) return false;
            for (double n : clause.numbers) {
                if (n == *number) return true;
            }
            return false;
        }
        case FilterOp::kRange: {
            const auto number = parse_number(value);
            if (!number) return false;
            if (clause.min &&
                (clause.min_inclusive ? *number < *clause.min : *number <= *clause.min))
                return false;
            if (clause.max &&
                (clause.max_inclusive ? *number > *clause.max : *number >= *clause.max))
                return false;
            return true;
        }
        case FilterOp::kPrefix:
            return !clause.values.empty() && std::string_view(value).starts_with(clause.values[0]);
    }
    return false;
}

// One field's operator object: {"gte":2020,"lt":2030} or {"in":[...]} or {"prefix":"x"}.
Status parse_operators(std::string_view field, simdjson::dom::object ops,
                       std::vector<FilterClause>& out) {
    if (ops.size() == 0) return filter_error(field, "an empty operator object");
    FilterClause range{.field = std::string(field), .op = FilterOp::kRange};
    for (auto [key, value] : ops) {
        if (key == "eq") {
            FilterClause c{.field = std::string(field), .op = FilterOp::kEquals};
            if (!add_scalar(value, c)) {
                return filter_error(field, fmt::format("\"eq\" needs a string, number or "
                                                       "boolean, not {}",
                                                       type_name(value)));
            }
            out.push_back(std::move(c));
        } else if (key == "in") {
            if (value.type() != element_type::ARRAY) {
                return filter_error(field,
                                    fmt::format("\"in\" needs an array, not {}", type_name(value)));
            }
            FilterClause c{.field = std::string(field), .op = FilterOp::kIn};
            simdjson::dom::array items;
            if (value.get(items)) return filter_error(field, "\"in\" needs an array");
            for (element item : items) {
                if (!add_scalar(item, c)) {
                    return filter_error(field, fmt::format("\"in\" items must be strings, numbers "
                                                           "or booleans, not {}",
                                                           type_name(item)));
                }
            }
            if (c.values.empty() && c.numbers.empty()) {
                return filter_error(field, "\"in\" needs at least one value");
            }
            out.push_back(std::move(c));
        } else if (key == "prefix") {
            if (value.type() != element_type::STRING) {
                return filter_error(
                    field, fmt::format("\"prefix\" needs a string, not {}", type_name(value)));
            }
            out.push_back({.field = std::string(field),
                           .op = FilterOp::kPrefix,
                           .values = {std::string(string_of(value))}});
        } else if (key == "gt" || key == "gte" || key == "lt" || key == "lte") {
            if (!is_number(value)) {
                return filter_error(
                    field, fmt::format("\"{}\" needs a number, not {}", key, type_name(value)));
            }
            const double n = number_of(value);
            if (key[0] == 'g') {
                range.min = n;
                range.min_inclusive = key == "gte";
            } else {
                range.max = n;
                range.max_inclusive = key == "lte";
            }
        } else {
            return filter_error(field, fmt::format("unknown operator \"{}\" (expected eq, in, "
                                                   "prefix, gt, gte, lt or lte)",
                                                   key));
        }
    }
    if (range.min || range.max) {
        if (range.min && range.max && *range.min > *range.max) {
            return filter_error(field, fmt::format("the lower bound {} is above the upper bound {}",
                                                   *range.min, *range.max));
        }
        out.push_back(std::move(range));
    }
    return Ok{};
}

}  // namespace

std::optional<double> parse_number(std::string_view value) {
    double n = 0;
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, n);
    if (ec != std::errc() || ptr != end || value.empty() || !std::isfinite(n)) return std::nullopt;
    return n;
}

Result<MetadataFilter> MetadataFilter::parse_json(std::string_view json) {
    thread_local simdjson::dom::parser parser;
    element root;
    if (auto err = parser.parse(json.data(), json.size(), true).get(root); err) {
        if (err == simdjson::EMPTY) return filter_error({}, "empty; expected a JSON object");
        return filter_error({}, fmt::format("not valid JSON: {}", simdjson::error_message(err)));
    }
    if (root.type() != element_type::OBJECT) {
        return filter_error(
            {}, fmt::format("expected a JSON object of fields, not {}", type_name(root)));
    }
    MetadataFilter filter;
    simdjson::dom::object fields;
    if (root.get(fields)) return filter_error({}, "expected a JSON object of fields");
    for (auto [key, value] : fields) {
        const std::string_view field = key;
        if (field.empty()) return filter_error({}, "a field name is empty");
        if (value.type() == element_type::OBJECT) {
            simdjson::dom::object ops;
            if (value.get(ops)) return filter_error(field, "expected an object of operators");
            Status ok = parse_operators(field, ops, filter.clauses_);
            if (!ok) return ok.error();
            continue;
        }
        FilterClause c{.field = std::string(field), .op = FilterOp::kEquals};
        if (!add_scalar(value, c)) {
            return filter_error(
                field, fmt::format("expected a string, number, boolean or an object of operators, "
                                   "not {}{}",
                                   type_name(value),
                                   value.type() == element_type::ARRAY
                                       ? " (for a list of values write {\"in\": [...]})"
                                       : ""));
        }
        filter.clauses_.push_back(std::move(c));
    }
    return filter;
}

MetadataFilter& MetadataFilter::equals(std::string field, std::string value) {
    return add({.field = std::move(field), .op = FilterOp::kEquals, .values = {std::move(value)}});
}

MetadataFilter& MetadataFilter::in(std::string field, std::vector<std::string> values) {
    return add({.field = std::move(field), .op = FilterOp::kIn, .values = std::move(values)});
}

MetadataFilter& MetadataFilter::range(std::string field, std::optional<double> min,
                                      std::optional<double> max, bool min_inclusive,
                                      bool max_inclusive) {
    return add({.field = std::move(field),
                .op = FilterOp::kRange,
                .min = min,
                .max = max,
                .min_inclusive = min_inclusive,
                .max_inclusive = max_inclusive});
}

MetadataFilter& MetadataFilter::prefix(std::string field, std::string prefix) {
    return add({.field = std::move(field), .op = FilterOp::kPrefix, .values = {std::move(prefix)}});
}

MetadataFilter& MetadataFilter::add(FilterClause clause) {
    clauses_.push_back(std::move(clause));
    return *this;
}

bool MetadataFilter::matches(const Metadata& metadata) const {
    for (const auto& clause : clauses_) {
        const std::string* value = find_value(metadata, clause.field);
        if (value == nullptr || !clause_holds(clause, *value)) return false;
    }
    return true;
}

}  // namespace switchyard::rag
