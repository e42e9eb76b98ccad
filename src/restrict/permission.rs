//! Meeting permissions, generated from permission.yml, and the organization management
//! levels.

#[allow(clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/permissions.rs"));
}

pub use generated::Permission;

impl Permission {
    /// Whether holding `self` grants `other`: the same permission or one below it.
    pub fn grants(self, other: Permission) -> bool {
        self == other || self.implied().contains(&other)
    }
}

/// A user's organization management level, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrganizationManagementLevel {
    None,
    CanManageUsers,
    CanManageOrganization,
    Superadmin,
}

impl OrganizationManagementLevel {
    /// Reads the value of `user/organization_management_level`; unknown text is no level.
    pub fn from_name(name: &str) -> OrganizationManagementLevel {
        match name {
            "superadmin" => OrganizationManagementLevel::Superadmin,
            "can_manage_organization" => OrganizationManagementLevel::CanManageOrganization,
            "can_manage_users" => OrganizationManagementLevel::CanManageUsers,
            _ => OrganizationManagementLevel::None,
        }
    }

    /// Whether this level is `level` or higher.
    pub fn has(self, level: OrganizationManagementLevel) -> bool {
        self >= level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_come_from_permission_yml() {
        assert_eq!(Permission::ALL.len(), 42);
        assert_eq!(
            Permission::from_name("motion.can_see"),
            Some(Permission::MotionCanSee)
        );
        assert_eq!(Permission::MotionCanSee.name(), "motion.can_see");
        assert_eq!(Permission::from_name("motion.nope"), None);
    }

    #[test]
    fn higher_permissions_grant_lower_ones() {
        use Permission::*;
        assert!(MotionCanManage.grants(MotionCanSee));
        assert!(MotionCanManage.grants(MotionCanSeeInternal));
        assert!(MotionCanManage.grants(MotionCanManagePolls));
        assert!(!MotionCanManage.grants(MotionCanSupport));
        assert!(AgendaItemCanManage.grants(AgendaItemCanSee));
        assert!(AgendaItemCanSeeInternal.grants(AgendaItemCanSee));
        assert!(!AgendaItemCanSee.grants(AgendaItemCanSeeInternal));
        assert!(UserCanUpdate.grants(UserCanSeeSensitiveData));
        assert!(UserCanUpdate.grants(UserCanSee));
        assert!(UserCanManage.grants(UserCanSeeSensitiveData));
        assert!(AssignmentCanNominateSelf.grants(AssignmentCanSee));
        assert!(!AssignmentCanManage.grants(AssignmentCanNominateSelf));
        assert!(ListOfSpeakersCanManageModeratorNotes.grants(ListOfSpeakersCanSeeModeratorNotes));
        assert!(PollCanManage.grants(PollCanSeeProgress));
        assert!(MotionCanSee.implied().is_empty());
    }

    #[test]
    fn management_levels_are_ordered() {
        use OrganizationManagementLevel::*;
        assert!(OrganizationManagementLevel::from_name("superadmin").has(CanManageOrganization));
        assert!(CanManageOrganization.has(CanManageUsers));
        assert!(!CanManageUsers.has(CanManageOrganization));
        assert!(!OrganizationManagementLevel::from_name("").has(CanManageUsers));
        assert!(None.has(None));
    }
}
