/* wcsync Admin: the Orders notice, Sync Now with progress, the marks on failed orders, the Sync
 * Order box, the failed orders list and the settings page's connection check. It talks only to
 * this site's wcsync-admin/v1 REST routes, with the wp_rest nonce; the wcsync token stays on the
 * server. It runs after the page has loaded, so a slow wcsync never holds a page up. Sentences
 * with numbers come from the server (made with _n()). Values are inserted as text only. */
( function () {
	'use strict';

	var config = window.wcsyncAdmin;
	if ( ! config ) {
		return;
	}
	var t = config.i18n;

	function request( method, path ) {
		return window
			.fetch( config.root + path, {
				method: method,
				credentials: 'same-origin',
				headers: { 'X-WP-Nonce': config.nonce, Accept: 'application/json' },
			} )
			.then( function ( response ) {
				return response.json().then(
					function ( data ) {
						if ( ! response.ok ) {
							var error = new Error( ( data && data.message ) || t.error );
							error.settingsUrl = ( data && data.data && data.data.settings_url ) || '';
							throw error;
						}
						return data;
					},
					function () {
						throw new Error( t.error );
					}
				);
			} );
	}

	function el( tag, text, className ) {
		var node = document.createElement( tag );
		if ( text !== undefined && text !== null ) {
			node.textContent = String( text );
		}
		if ( className ) {
			node.className = className;
		}
		return node;
	}

	// Asking wcsync waits until the page has loaded: it never competes with the page's own files.
	function afterLoad( callback ) {
		if ( document.readyState === 'complete' ) {
			window.setTimeout( callback, 0 );
		} else {
			window.addEventListener( 'load', function () {
				window.setTimeout( callback, 0 );
			} );
		}
	}

	function sleep( ms ) {
		return new Promise( function ( resolve ) {
			window.setTimeout( resolve, ms );
		} );
	}

	/* --- every admin page: the summary (menu bubble, Orders notice, marks) --------------- */

	function updateBubble( count ) {
		var bubbles = document.querySelectorAll( '.wcsync-admin-bubble' );
		Array.prototype.forEach.call( bubbles, function ( bubble ) {
			bubble.hidden = ! ( count > 0 );
			bubble.className = 'wcsync-admin-bubble count-' + ( count || 0 );
			var inner = bubble.querySelector( '.wcsync-admin-count' );
			if ( inner ) {
				inner.textContent = String( count || 0 );
			}
		} );
	}

	function updateMarks( failedIds ) {
		var marks = document.querySelectorAll( '.wcsync-admin-mark[data-order-id]' );
		Array.prototype.forEach.call( marks, function ( mark ) {
			var id = parseInt( mark.getAttribute( 'data-order-id' ), 10 );
			var failed = failedIds.indexOf( id ) !== -1;
			var shown = mark.querySelector( '.wcsync-admin-failed-mark' );
			if ( failed && ! shown ) {
				var link = el( 'a', t.failedMark, 'wcsync-admin-failed-mark' );
				link.href = config.failedUrl;
				link.title = t.failedTitle;
				mark.appendChild( link );
			} else if ( ! failed && shown ) {
				mark.removeChild( shown );
			}
		} );
	}

	var KINDS = { ok: 'notice-info', checking: 'notice-info', failed: 'notice-warning', error: 'notice-error' };

	// The notice's look: red with the settings link on an error, where Sync Now is no longer
	// the page's main action; yellow with the failed orders' link when some failed.
	function showNotice( kind, text, failedText, settingsUrl ) {
		var notice = document.getElementById( 'wcsync-admin-notice' );
		if ( ! notice ) {
			return;
		}
		Object.keys( KINDS ).forEach( function ( name ) {
			notice.classList.remove( KINDS[ name ] );
		} );
		notice.classList.add( KINDS[ kind ] );
		notice.setAttribute( 'data-kind', kind );
		document.getElementById( 'wcsync-admin-pending' ).textContent = text;
		var failed = document.getElementById( 'wcsync-admin-failed' );
		failed.textContent = failedText || '';
		failed.hidden = ! failedText;
		var fix = document.getElementById( 'wcsync-admin-fix' );
		fix.hidden = ! settingsUrl;
		if ( settingsUrl ) {
			fix.href = settingsUrl;
		}
		var button = document.getElementById( 'wcsync-admin-sync-now' );
		button.classList.toggle( 'button-primary', kind !== 'error' );
	}

	function showError( error ) {
		inError = true;
		showNotice( 'error', error.message, '', error.settingsUrl || '' );
		updateBubble( 0 );
	}

	var lastRefresh = 0;
	var inError = false;

	// Marks the notice as refreshed from wcsync (not drawn from the saved summary).
	function refreshed() {
		lastRefresh = Date.now();
		var notice = document.getElementById( 'wcsync-admin-notice' );
		if ( notice ) {
			notice.setAttribute( 'data-refreshed', String( Date.now() ) );
		}
	}

	function refreshSummary() {
		return request( 'GET', 'pending' )
			.then( function ( data ) {
				var notice = data.notice;
				inError = false;
				showNotice( notice.kind, notice.text, notice.failed_text, '' );
				updateBubble( data.pending );
				updateMarks( data.failed_ids || [] );
			} )
			.catch( showError )
			.then( refreshed );
	}

	/* --- Orders list: Sync Now ------------------------------------------------------------ */

	function watchRun( runId, bar, text ) {
		return request( 'GET', 'runs/' + runId ).then( function ( run ) {
			var done = run.progress.done;
			var total = run.progress.total;
			if ( total > 0 ) {
				bar.max = total;
				bar.value = Math.min( done, total );
			}
			text.textContent = run.message;
			if ( run.finished ) {
				bar.max = Math.max( total, 1 );
				bar.value = bar.max;
				return run;
			}
			return sleep( 1000 ).then( function () {
				return watchRun( runId, bar, text );
			} );
		} );
	}

	function setUpSyncNow() {
		var button = document.getElementById( 'wcsync-admin-sync-now' );
		if ( ! button ) {
			return false;
		}
		var notice = document.getElementById( 'wcsync-admin-notice' );
		// As the page was drawn, from the saved summary.
		inError = notice.getAttribute( 'data-kind' ) === 'error';
		lastRefresh = Date.now();
		var box = notice.querySelector( '.wcsync-admin-progress' );
		var bar = document.getElementById( 'wcsync-admin-progress-bar' );
		var text = document.getElementById( 'wcsync-admin-progress-text' );
		button.addEventListener( 'click', function () {
			button.disabled = true;
			box.hidden = false;
			bar.removeAttribute( 'value' );
			text.textContent = t.queued;
			request( 'POST', 'sync' )
				.then( function ( accepted ) {
					return watchRun( accepted.run_id, bar, text );
				} )
				.then( refreshSummary )
				.catch( function ( error ) {
					// The bar means a run under way: none is, so it goes, and the notice says why.
					box.hidden = true;
					text.textContent = '';
					showError( error );
				} )
				.then( function () {
					button.disabled = false;
				} );
		} );
		if ( config.refresh === 'yes' ) {
			afterLoad( refreshSummary );
		}
		// Every 15 s while the page is shown; a wcsync in error once a minute (each try may hold
		// one of the site's PHP workers for a second).
		window.setInterval( function () {
			var wait = inError ? 60000 : 15000;
			if ( ! document.hidden && ! button.disabled && Date.now() - lastRefresh >= wait - 500 ) {
				refreshSummary();
			}
		}, 15000 );
		return true;
	}

	/* --- order edit screen: the Sync Order box -------------------------------------------- */

	function renderLinks( box, view ) {
		box.textContent = '';
		if ( ! view.links || ! view.links.length ) {
			box.appendChild( el( 'p', t.noLinks ) );
			return;
		}
		var table = el( 'table', null, 'widefat striped wcsync-admin-links' );
		var head = el( 'thead' );
		var row = el( 'tr' );
		[ t.target, t.replica, t.state ].forEach( function ( label ) {
			var th = el( 'th', label );
			th.scope = 'col';
			row.appendChild( th );
		} );
		head.appendChild( row );
		table.appendChild( head );
		var body = el( 'tbody' );
		view.links.forEach( function ( link ) {
			var tr = el( 'tr' );
			tr.appendChild( el( 'td', link.target.store ) );
			tr.appendChild( el( 'td', link.target.order_id ? '#' + link.target.order_id : t.notYet ) );
			var state = el( 'td' );
			state.appendChild( el( 'span', link.state.replace( '_', ' ' ), 'wcsync-admin-state wcsync-admin-state-' + link.state ) );
			tr.appendChild( state );
			body.appendChild( tr );
			if ( link.last_error ) {
				var errorRow = el( 'tr', null, 'wcsync-admin-error' );
				var cell = el( 'td' );
				cell.colSpan = 3;
				cell.appendChild( el( 'strong', t.lastError + ': ' ) );
				cell.appendChild( document.createTextNode( link.last_error ) );
				errorRow.appendChild( cell );
				body.appendChild( errorRow );
			}
		} );
		table.appendChild( body );
		box.appendChild( table );
	}

	// A replica's origin note becomes a link to the origin order's admin screen.
	function showOrigin( origin ) {
		var current = document.getElementById( 'wcsync-admin-origin-link' );
		if ( ! origin || ! origin.admin_url || ! current ) {
			return;
		}
		var link = el( 'a', origin.label );
		link.id = 'wcsync-admin-origin-link';
		link.href = origin.admin_url;
		current.parentNode.replaceChild( link, current );
	}

	function setUpSyncOrder() {
		// The box's own div, not WordPress' postbox around it (which carries the box's id).
		var container = document.querySelector( '.wcsync-admin-order[data-order-id]' );
		if ( ! container ) {
			return;
		}
		var orderId = parseInt( container.getAttribute( 'data-order-id' ), 10 );
		var box = document.getElementById( 'wcsync-admin-links' );
		var button = document.getElementById( 'wcsync-admin-sync-order' );
		var status = document.getElementById( 'wcsync-admin-order-status' );
		request( 'GET', 'orders/' + orderId )
			.then( function ( view ) {
				renderLinks( box, view );
				showOrigin( view.origin );
			} )
			.catch( function ( error ) {
				showErrorIn( box, error );
			} );
		button.addEventListener( 'click', function () {
			button.disabled = true;
			status.textContent = t.syncing;
			request( 'POST', 'orders/' + orderId + '/sync' )
				.then( function ( view ) {
					renderLinks( box, view );
					status.textContent = '';
				} )
				.catch( function ( error ) {
					status.textContent = error.message;
				} )
				.then( function () {
					button.disabled = false;
				} );
		} );
	}

	/* --- settings page, Failed orders tab ---------------------------------------------------- */

	function renderFailed( box, data ) {
		box.textContent = '';
		if ( ! data.items || ! data.items.length ) {
			box.appendChild( el( 'p', t.noFailed ) );
			return;
		}
		box.appendChild( el( 'p', data.message ) );
		var table = el( 'table', null, 'widefat striped wcsync-admin-failed-table' );
		var head = el( 'thead' );
		var row = el( 'tr' );
		[ t.order, t.copyTo, t.reason, t.attempts, '' ].forEach( function ( label ) {
			var th = el( 'th', label );
			th.scope = 'col';
			row.appendChild( th );
		} );
		head.appendChild( row );
		table.appendChild( head );
		var body = el( 'tbody' );
		data.items.forEach( function ( item ) {
			item.links.forEach( function ( link, index ) {
				var tr = el( 'tr' );
				tr.setAttribute( 'data-order-id', String( item.order_id ) );
				var orderCell = el( 'td' );
				if ( index === 0 ) {
					if ( item.edit_url ) {
						var a = el( 'a', '#' + item.number );
						a.href = item.edit_url;
						orderCell.appendChild( a );
					} else {
						orderCell.textContent = '#' + item.number;
					}
				}
				tr.appendChild( orderCell );
				tr.appendChild( el( 'td', link.target && link.target.store ) );
				tr.appendChild( el( 'td', link.last_error, 'wcsync-admin-reason' ) );
				tr.appendChild( el( 'td', link.attempts ) );
				var action = el( 'td' );
				if ( index === 0 ) {
					var button = el( 'button', t.retry, 'button' );
					button.type = 'button';
					var status = el( 'span', '', 'wcsync-admin-retry-status' );
					status.setAttribute( 'role', 'status' );
					button.addEventListener( 'click', function () {
						button.disabled = true;
						status.textContent = t.syncing;
						request( 'POST', 'orders/' + item.order_id + '/sync' )
							.then( function () {
								return request( 'GET', 'failed' );
							} )
							.then( function ( fresh ) {
								renderFailed( box, fresh );
							} )
							.catch( function ( error ) {
								status.textContent = error.message;
								button.disabled = false;
							} );
					} );
					action.appendChild( button );
					action.appendChild( status );
				}
				tr.appendChild( action );
				body.appendChild( tr );
			} );
		} );
		table.appendChild( body );
		box.appendChild( table );
	}

	function showErrorIn( box, error ) {
		box.textContent = '';
		var p = el( 'p', error.message, 'wcsync-admin-error-text' );
		if ( error.settingsUrl ) {
			p.appendChild( document.createTextNode( ' ' ) );
			var a = el( 'a', t.fix );
			a.href = error.settingsUrl;
			p.appendChild( a );
		}
		box.appendChild( p );
	}

	function setUpFailedList() {
		var box = document.getElementById( 'wcsync-admin-failed-list' );
		if ( ! box ) {
			return;
		}
		request( 'GET', 'failed' )
			.then( function ( data ) {
				renderFailed( box, data );
			} )
			.catch( function ( error ) {
				showErrorIn( box, error );
			} );
	}

	/* --- settings page: connection check ------------------------------------------------ */

	function setUpCheck() {
		var button = document.getElementById( 'wcsync-admin-check' );
		var result = document.getElementById( 'wcsync-admin-check-result' );
		if ( ! button || ! result ) {
			return;
		}
		button.addEventListener( 'click', function () {
			button.disabled = true;
			result.textContent = t.checking;
			result.classList.remove( 'wcsync-admin-error-text' );
			request( 'GET', 'status' )
				.then( function ( status ) {
					result.textContent = t.connected + ' ' + status.store + ' (' + status.role + ').';
				} )
				.catch( function ( error ) {
					result.textContent = error.message;
					result.classList.add( 'wcsync-admin-error-text' );
				} )
				.then( function () {
					button.disabled = false;
				} );
		} );
	}

	function start() {
		var onOrders = setUpSyncNow();
		setUpSyncOrder();
		setUpFailedList();
		setUpCheck();
		// Any other page with a stale summary: refresh it for the menu bubble.
		if ( ! onOrders && config.refresh === 'yes' ) {
			afterLoad( refreshSummary );
		}
	}

	if ( document.readyState === 'loading' ) {
		document.addEventListener( 'DOMContentLoaded', start );
	} else {
		start();
	}
} )();
