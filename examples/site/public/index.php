<?php
// Front controller of the example site: edge sends every path that is not a file here
// (try-files "$uri", "$uri/", "/index.php?$query").
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$name = isset($_GET['name']) ? $_GET['name'] : 'world';

if ($path === '/health') {
    header('Content-Type: text/plain');
    echo "ok\n";
    exit;
}
if ($path === '/cached') {
    header('Cache-Control: public, max-age=60');
    header('Content-Type: text/plain');
    echo 'rendered at ' . gmdate('H:i:s') . "\n";
    exit;
}
header('Content-Type: text/html; charset=utf-8');
?>
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>edge + php-fpm</title></head>
<body>
<h1>Hello, <?= htmlspecialchars($name, ENT_QUOTES) ?></h1>
<p>Served by <?= htmlspecialchars(php_sapi_name()) ?> through edge's FastCGI client.</p>
<ul>
  <li>REQUEST_URI: <?= htmlspecialchars($_SERVER['REQUEST_URI']) ?></li>
  <li>SCRIPT_NAME: <?= htmlspecialchars($_SERVER['SCRIPT_NAME']) ?></li>
  <li>PHP <?= PHP_VERSION ?></li>
</ul>
</body>
</html>
