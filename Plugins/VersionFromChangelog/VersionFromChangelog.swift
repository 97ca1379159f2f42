import Foundation
import PackagePlugin

/// Gives the `sitegate` target its version from the top entry of debian/changelog, so that the package's version
/// and `sitegate --version` have one source: a release is one `dch -v` (or one edited line), nothing else.
///
/// Generates `SitegateVersion.swift` (`enum SitegateVersion { static let current = "0.1.0" }`) with /bin/sh and
/// sed, which every build host has, instead of a tool target that would have to be compiled first.
@main
struct VersionFromChangelog: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let changelog = context.package.directoryURL.appending(path: "debian/changelog")
        let output = context.pluginWorkDirectoryURL.appending(path: "SitegateVersion.swift")
        // The first line reads `sitegate (0.1.0) unstable; urgency=medium`; anything else fails the build.
        let script = #"""
            version=$(sed -n '1s/^sitegate (\([0-9][A-Za-z0-9.+~-]*\)) .*/\1/p' "$1")
            if [ -z "$version" ]; then
                echo "$1:1:1: error: expected 'sitegate (VERSION) ...' as the changelog's first line" >&2
                exit 1
            fi
            printf '// Generated from debian/changelog by the VersionFromChangelog plugin.\nenum SitegateVersion {\n    static let current = "%s"\n}\n' "$version" > "$2"
            """#
        return [
            .buildCommand(
                displayName: "sitegate version from debian/changelog",
                executable: URL(filePath: "/bin/sh"),
                arguments: ["-c", script, "version-from-changelog", changelog.path(), output.path()],
                inputFiles: [changelog],
                outputFiles: [output]
            )
        ]
    }
}
