// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Drawbridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "drawbridge", targets: ["drawbridge"]),
        .library(name: "LDAP", targets: ["LDAP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLDAP",
            pkgConfig: "ldap",
            providers: [.apt(["libldap-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CQRencode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        .target(
            name: "LDAP",
            dependencies: [
                "CLDAP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "DrawbridgeCore",
            dependencies: [
                "LDAP",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "DrawbridgeConfig",
            dependencies: [
                "DrawbridgeCore",
                "LDAP",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "DrawbridgeStore",
            dependencies: [
                "DrawbridgeCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "DrawbridgeDirectory",
            dependencies: [
                "LDAP",
                "DrawbridgeCore",
                "DrawbridgeConfig",
                "DrawbridgeStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "DrawbridgeAccess",
            dependencies: [
                "LDAP",
                "DrawbridgeCore",
                "DrawbridgeConfig",
                "DrawbridgeStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "DrawbridgeNotifications",
            dependencies: [
                "CCurl",
                "LDAP",
                "DrawbridgeCore",
                "DrawbridgeConfig",
                "DrawbridgeStore",
                "DrawbridgeAccess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "DrawbridgeServer",
            dependencies: [
                "LDAP",
                "DrawbridgeCore",
                "DrawbridgeConfig",
                "DrawbridgeStore",
                "DrawbridgeDirectory",
                "DrawbridgeAccess",
                "CQRencode",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources")]
        ),
        .executableTarget(
            name: "drawbridge",
            dependencies: [
                "LDAP",
                "DrawbridgeCore",
                "DrawbridgeConfig",
                "DrawbridgeStore",
                "DrawbridgeDirectory",
                "DrawbridgeAccess",
                "DrawbridgeServer",
                "DrawbridgeNotifications",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "drawbridge-benchmark",
            dependencies: [
                "LDAP",
                "DrawbridgeCore",
                "DrawbridgeConfig",
                "DrawbridgeStore",
                "DrawbridgeDirectory",
                "DrawbridgeAccess",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "drawbridge-api-load",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .target(
            name: "DrawbridgeTestSupport",
            dependencies: [
                "LDAP",
                "DrawbridgeCore",
                "DrawbridgeConfig",
                "DrawbridgeStore",
                "DrawbridgeDirectory",
                "DrawbridgeAccess",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/DrawbridgeTestSupport"
        ),
        .testTarget(
            name: "LDAPTests",
            dependencies: ["LDAP", "DrawbridgeTestSupport"]
        ),
        .testTarget(
            name: "DrawbridgeCoreTests",
            dependencies: ["DrawbridgeCore", "DrawbridgeConfig"]
        ),
        .testTarget(
            name: "DrawbridgeStoreTests",
            dependencies: ["DrawbridgeStore", "DrawbridgeCore", "LDAP"]
        ),
        .testTarget(
            name: "DrawbridgeDirectoryTests",
            dependencies: [
                "DrawbridgeDirectory",
                "DrawbridgeStore",
                "DrawbridgeConfig",
                "DrawbridgeCore",
                "LDAP",
                "DrawbridgeTestSupport",
            ]
        ),
        .testTarget(
            name: "DrawbridgeAccessTests",
            dependencies: [
                "DrawbridgeAccess",
                "DrawbridgeDirectory",
                "DrawbridgeStore",
                "DrawbridgeConfig",
                "DrawbridgeCore",
                "LDAP",
                "DrawbridgeTestSupport",
                .product(name: "SQLiteKit", package: "sqlite-kit"),
            ]
        ),
        .testTarget(
            name: "DrawbridgeServerTests",
            dependencies: [
                "DrawbridgeServer",
                "DrawbridgeNotifications",
                "DrawbridgeAccess",
                "DrawbridgeDirectory",
                "DrawbridgeStore",
                "DrawbridgeConfig",
                "DrawbridgeCore",
                "LDAP",
                "DrawbridgeTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
