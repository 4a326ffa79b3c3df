// The PII scanner's driver: one forward pass over the text that dispatches at word starts
// (digits, '+', '(', letters), at '@' (e-mail) and at "-----BEGIN" (private keys).
#include <cstring>

#include "pii_detail.hpp"
#include "switchyard/routing/pii.hpp"

namespace switchyard::routing {

using namespace detail;

std::string_view to_string(PiiKind kind) {
    switch (kind) {
        case PiiKind::kEmail:
            return "email";
        case PiiKind::kPhone:
            return "phone";
        case PiiKind::kPaymentCard:
            return "payment_card";
        case PiiKind::kIban:
            return "iban";
        case PiiKind::kUsSsn:
            return "us_ssn";
        case PiiKind::kUkNino:
            return "uk_nino";
        case PiiKind::kDeTaxId:
            return "de_tax_id";
        case PiiKind::kApiKey:
            return "api_key";
        case PiiKind::kJwt:
            return "jwt";
        case PiiKind::kPrivateKey:
            return "private_key";
    }
    return "unknown";
}

std::string_view to_string(PrivacyLevel level) {
    switch (level) {
        case PrivacyLevel::kNone:
            return "none";
        case PrivacyLevel::kPersonal:
            return "personal";
        case PrivacyLevel::kSensitive:
            return "sensitive";
        case PrivacyLevel::kSecret:
            return "secret";
    }
    return "unknown";
}

namespace {

bool is_local_char(unsigned char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool is_domain_char(unsigned char c) {
    return is_alnum(c) || c == '-';
}

// An e-mail address around the '@' at `at_pos`, not reaching back before `floor`.
// Returns {start, length}; length 0 when there is none.
std::pair<size_t, size_t> match_email(std::string_view s, size_t at_pos, size_t floor) {
    size_t start = at_pos;
    while (start > floor && at_pos - start < 64 && is_local_char(at(s, start - 1)))
        --start;
    while (start < at_pos && !is_alnum(at(s, start)))
        ++start;  // no leading '.', '-', '+'
    if (start == at_pos || at(s, at_pos - 1) == '.') return {0, 0};
    size_t pos = at_pos + 1;
    size_t labels = 0;
    size_t end = 0;
    bool last_alpha_only = false;
    while (true) {
        const size_t label_start = pos;
        bool alpha_only = true;
        while (is_domain_char(at(s, pos)) && pos - label_start < 63) {
            if (!is_alpha(at(s, pos))) alpha_only = false;
            ++pos;
        }
        if (pos == label_start || at(s, label_start) == '-' || at(s, pos - 1) == '-') break;
        ++labels;
        end = pos;
        last_alpha_only = alpha_only && pos - label_start >= 2;
        if (at(s, pos) != '.' || !is_alnum(at(s, pos + 1))) break;
        ++pos;
    }
    if (labels < 2 || !last_alpha_only) return {0, 0};
    if (is_alnum(at(s, end)) || at(s, end) == '@') return {0, 0};
    return {start, end - start};
}

}  // namespace

void scan_pii(std::string_view s, const PiiOptions& options, std::vector<PiiFinding>& out) {
    const size_t n = s.size();
    size_t i = 0;
    size_t last_end = 0;
    auto emit = [&](PiiKind kind, size_t start, size_t length) {
        last_end = start + length;
        if (options.level_of[static_cast<int>(kind)] == PrivacyLevel::kNone) return;
        out.push_back({kind, static_cast<uint32_t>(start), static_cast<uint32_t>(length)});
    };
    while (i < n) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (!is_alnum(c)) {
            if (c == '@') {
                auto [start, length] = match_email(s, i, last_end);
                if (length != 0) {
                    emit(PiiKind::kEmail, start, length);
                    i = start + length;
                    continue;
                }
            } else if (c == '-') {
                if (at(s, i + 1) == '-' && n - i >= 16 &&
                    std::memcmp(s.data() + i, "-----BEGIN ", 11) == 0) {
                    const Match m = match_private_key(s, i);
                    if (m.length != 0) {
                        emit(m.kind, i, m.length);
                        i += m.length;
                        continue;
                    }
                }
            } else if (c == '+' || c == '(') {
                if (is_digit(at(s, i + 1)) && (i == 0 || !is_alnum(at(s, i - 1)))) {
                    const Match m = match_number(s, i);
                    if (m.length != 0) {
                        emit(m.kind, i, m.length);
                        i += m.length;
                        continue;
                    }
                }
            }
            ++i;
            continue;
        }
        // A word start (the previous byte is not alphanumeric).
        Match m;
        if (is_digit(c)) {
            m = match_number(s, i);
        } else {
            m = match_credential(s, i, options);
            if (m.length == 0 && is_upper(c)) m = match_letter_id(s, i);
        }
        if (m.length != 0) {
            if (m.report) emit(m.kind, i, m.length);
            i += m.length;
            continue;
        }
        while (i < n && is_alnum(static_cast<unsigned char>(s[i])))
            ++i;
    }
}

}  // namespace switchyard::routing
