<?php
add_action('wp_ajax_save_note', function () {
    check_ajax_referer('save_note');
    $action = sanitize_key($_REQUEST['action']);
    $note = sanitize_textarea_field(wp_unslash($_POST['note'] ?? ''));
    update_option('my_note', $note);
    do_action("myplugin_{$action}_done", $note);
    wp_send_json_success();
});
