//! Compares every cell of the Restcomm matrix (a copy of the reference's table, kept in
//! `tests/data/restcomm-permission-matrix.csv`) with the role catalog.

use tessera_domain::permissions::matrix::{self, Access, Availability, RestcommRole};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::roles::{Role, RoleAccess};

const CSV: &str = include_str!("data/restcomm-permission-matrix.csv");

struct CsvRow {
    section: String,
    capability: String,
    available: String,
    cells: [String; 4],
}

/// A small CSV reader: the file uses quotes only around fields that hold commas.
fn parse_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn rows() -> Vec<CsvRow> {
    let mut lines = CSV.lines().map(|l| l.trim_end_matches('\r'));
    let header = parse_line(lines.next().unwrap());
    assert_eq!(
        header,
        [
            "section",
            "capability",
            "available_at_this_level",
            "administrator",
            "developer",
            "turnkey_applications_administrator",
            "turnkey_applications_developer"
        ]
    );
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f = parse_line(l);
            assert_eq!(f.len(), 7, "bad row {l}");
            CsvRow {
                section: f[0].clone(),
                capability: f[1].clone(),
                available: f[2].clone(),
                cells: [f[3].clone(), f[4].clone(), f[5].clone(), f[6].clone()],
            }
        })
        .collect()
}

fn role_of(r: RestcommRole) -> &'static Role {
    Role::by_name(r.name()).unwrap()
}

/// The level a role's permissions hold for a capability, in the matrix's words.
fn cell_of(role: &Role, c: Capability) -> &'static str {
    let perms = role.permissions();
    if perms.contains(Permission::write(c)) {
        "write"
    } else if perms.contains(Permission::read(c)) {
        "read"
    } else {
        "none"
    }
}

/// The Role Access cell in the matrix's words (`Business Customer …` names joined by `; `).
fn role_access_cell(role: &Role) -> String {
    match role.role_access() {
        RoleAccess::Nothing => "none".into(),
        RoleAccess::Any => "any".into(),
        RoleAccess::Only(roles) => roles
            .iter()
            .map(|r| format!("Business Customer {}", r.name()))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn check_role(column: RestcommRole) -> usize {
    let role = role_of(column);
    let rows = rows();
    assert_eq!(rows.len(), Capability::ALL.len());
    let mut checked = 0;
    for (row, cap) in rows.iter().zip(Capability::ALL) {
        assert_eq!(row.capability, cap.matrix_name(), "row order");
        assert_eq!(
            row.section,
            cap.section().title(),
            "{} section",
            row.capability
        );
        let expected = &row.cells[column.column()];
        let actual = if *cap == Capability::RoleAccess {
            role_access_cell(role)
        } else {
            cell_of(role, *cap).to_owned()
        };
        assert_eq!(
            &actual, expected,
            "{} / {}: catalog says {actual}, matrix says {expected}",
            role.name, row.capability
        );
        checked += 1;
    }
    checked
}

#[test]
fn administrator_matches_every_cell_of_its_column() {
    assert_eq!(check_role(RestcommRole::Administrator), 46);
}

#[test]
fn developer_matches_every_cell_of_its_column() {
    assert_eq!(check_role(RestcommRole::Developer), 46);
}

#[test]
fn turnkey_administrator_matches_every_cell_of_its_column() {
    assert_eq!(check_role(RestcommRole::TurnkeyAdministrator), 46);
}

#[test]
fn turnkey_developer_matches_every_cell_of_its_column() {
    assert_eq!(check_role(RestcommRole::TurnkeyDeveloper), 46);
}

#[test]
fn availability_column_matches() {
    for (row, m) in rows().iter().zip(matrix::MATRIX) {
        let expected = match m.availability {
            Availability::Yes => "yes",
            Availability::No => "no",
            Availability::UpTo(Access::Write) => "write",
            Availability::UpTo(Access::Read) => "read",
            Availability::UpTo(Access::None) => "none",
        };
        assert_eq!(row.available, expected, "{}", row.capability);
    }
}

#[test]
fn no_role_exceeds_what_the_account_level_makes_available() {
    // A platform capability marked "no" is granted by no Restcomm role; a Turnkey row's level
    // caps every cell.
    for m in matrix::MATRIX {
        for cell in m.cells {
            let ok = match (m.availability, cell) {
                (_, Access::None) => true,
                (Availability::No, _) => false,
                (Availability::Yes, _) => true,
                (Availability::UpTo(max), c) => (c as u8) <= (max as u8),
            };
            assert!(
                ok,
                "{} grants more than is available",
                m.capability.matrix_name()
            );
        }
    }
}

/// docs/authorization.md lists every capability slug with its name, in catalog order, and
/// nothing else: the table a client reads to write an explain request.
#[test]
fn the_documented_slugs_are_the_catalog() {
    let doc = include_str!("../../../docs/authorization.md");
    let documented: Vec<(String, String)> = doc
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| {
            let (slug, rest) = l.split_once("` | ")?;
            let name = rest.split(" | ").next()?;
            Some((slug.to_owned(), name.to_owned()))
        })
        .collect();
    let catalog: Vec<(String, String)> = Capability::ALL
        .iter()
        .map(|c| (c.slug().to_owned(), c.name().to_owned()))
        .collect();
    assert_eq!(documented, catalog);
}
